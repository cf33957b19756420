#!/bin/sh
# Makes 06-gnupg-inline-signed.eml and 07-gnupg-pgp-mime-signed.eml with real GnuPG, the way
# mutt (traditional inline PGP) and Thunderbird (PGP/MIME, RFC 3156) sign a reply, and exports
# the signer's public key to gus.pub.asc. Run once by hand; the outputs are committed (the key
# is a throw-away test key: its secret part was never kept).
#   GNUPGHOME=$(mktemp -d) sh make-signed.sh
set -eu
gpg --batch --passphrase '' --quick-generate-key "Gus Grant <gus@example.org>" ed25519 sign never
gpg --armor --export gus@example.org > gus.pub.asc

printf '+0\n\nI will look at the build tomorrow.\n\nGus\n' | gpg --clearsign --digest-algo SHA256 > body.asc
{
  printf 'From: Gus Grant <gus@example.org>\nTo: dev@vot.example\nSubject: Re: [VOTE] Release vot 2.0.0\n'
  printf 'Date: Fri, 4 Dec 2026 09:20:00 +0000\nMessage-ID: <20261204092000.GB777@gus.example.org>\n'
  printf 'In-Reply-To: <vote-root@trs.invalid>\nReferences: <vote-root@trs.invalid>\nMIME-Version: 1.0\n'
  printf 'Content-Type: text/plain; charset=us-ascii\nContent-Disposition: inline\nUser-Agent: Mutt/2.2.13 (2024-03-09)\n\n'
  cat body.asc
} > 06-gnupg-inline-signed.eml
rm body.asc

# The signed entity: its own MIME headers and body, CRLF line ends (RFC 3156 section 5).
printf 'Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n+1 (binding)\r\n\r\nBuilt it from the tag and compared the tarball byte for byte =E2=80=93 =\r\nidentical.\r\n\r\nOn 04.12.26 09:00, vot releases wrote:\r\n> [ ] +1 release it\r\n> [ ] -1 do not release it, because ...\r\n\r\n-- \r\nGus\r\n' > part.txt
gpg --armor --detach-sign --digest-algo SHA256 part.txt
B='------------8KxQ2wP0r3Zk4n5Yt6Uv7Ws8'
{
  printf 'Message-ID: <b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>\nDate: Fri, 4 Dec 2026 10:45:00 +0100\nMIME-Version: 1.0\n'
  printf 'User-Agent: Mozilla Thunderbird\nSubject: Re: [VOTE] Release vot 2.0.0\nTo: dev@vot.example\n'
  printf 'References: <vote-root@trs.invalid>\nFrom: Gus Grant <gus@example.org>\nIn-Reply-To: <vote-root@trs.invalid>\n'
  printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\n protocol="application/pgp-signature";\n boundary="%s"\n\n' "$B"
  printf 'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n--%s\n' "$B"
  tr -d '\r' < part.txt
  printf '\n--%s\nContent-Type: application/pgp-signature; name="OpenPGP_signature.asc"\n' "$B"
  printf 'Content-Description: OpenPGP digital signature\nContent-Disposition: attachment; filename="OpenPGP_signature.asc"\n\n'
  cat part.txt.asc
  printf '\n--%s--\n' "$B"
} > 07-gnupg-pgp-mime-signed.eml
rm part.txt part.txt.asc
