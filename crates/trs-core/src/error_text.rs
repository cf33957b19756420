//! An error as one line of text for a person: the error and each of its causes, joined by
//! ": ". Many libraries' own message names only the step that failed ("error sending
//! request", "failed to render 'vote.txt'") and keep the reason in a cause (a timeout, a
//! refused connection, the template's undefined variable), so `to_string()` alone hides it.

/// `e` and its causes, outermost first, joined by ": ".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn every_cause_follows_its_error_outermost_first() {
        let e =
            Layer("error sending request", Some(Box::new(Layer("connect", Some(Box::new(Layer("timed out", None)))))));
        assert_eq!(error_chain(&e), "error sending request: connect: timed out");
        assert_eq!(error_chain(&Layer("alone", None)), "alone");
    }
}
