//! Against moto's EventBridge and SQS: a committed release-stream event arrives, exactly as
//! stored, at a queue subscribed to the bus by a rule; a queued commit task is announced on
//! the commit queue, the verify task its commit queues on the verify queue, neither elsewhere.

use std::sync::Arc;
use trs_app::stream;
use trs_app::test_support::{release, upload_files, world};
use trs_core::StreamId;
use trs_messaging_aws::testing::{bodies, queue, subscribed_queue};
use trs_messaging_aws::{EVENT_DETAIL_TYPE, EVENT_SOURCE, EventBridgeSink, SqsTaskNotifier, TaskQueues};
use trs_storage_aws::moto::MotoServer;

#[tokio::test]
async fn committed_events_reach_a_subscriber_of_the_bus_as_stored() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let (sqs, subscriber) = subscribed_queue(&config, "trs-release-stream").await;
    let mut w = world().await;
    w.app.events = Arc::new(EventBridgeSink::new(&config, "trs-release-stream"));
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;

    let stored = stream::all_events_raw(&w.app, &StreamId::Project("foo".parse().unwrap())).await.unwrap();
    let pushed = stored.last().unwrap();
    assert_eq!(pushed["type"], "revision-pushed");
    let received = bodies(&sqs, &subscriber).await;
    assert_eq!(received.len(), 1, "one event since the sink was set: {received:?}");
    let envelope: serde_json::Value = serde_json::from_str(&received[0]).unwrap();
    assert_eq!(envelope["source"], EVENT_SOURCE);
    assert_eq!(envelope["detail-type"], EVENT_DETAIL_TYPE);
    assert_eq!(&envelope["detail"], pushed, "the detail is the stored event, hash included");
}

#[tokio::test]
async fn a_queued_task_is_announced_on_its_kinds_queue() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (verify, _) = queue(&sqs, "verify").await;
    let (promote, _) = queue(&sqs, "promote").await;
    let (commit, _) = queue(&sqs, "commit").await;

    let mut w = world().await;
    let queues =
        TaskQueues { commit: Some(commit.clone()), verify: Some(verify.clone()), promote: Some(promote.clone()) };
    w.app.notifier = Arc::new(SqsTaskNotifier::new(&config, queues));
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;

    let status = trs_app::status::release_status(&w.app, &release()).await.unwrap();
    let announced = bodies(&sqs, &verify).await;
    assert_eq!(announced.len(), 1, "{announced:?}");
    let (task, _) = trs_app::tasks::get_task(&w.app, &announced[0].parse().unwrap()).await.unwrap();
    assert!(matches!(task.kind, trs_app::tasks::TaskKind::Verify { revision: 1, .. }), "{task:?}");
    assert_eq!(status.revision.as_ref().map(|r| r.number), Some(1));
    let commits = bodies(&sqs, &commit).await;
    assert_eq!(commits.len(), 1, "{commits:?}");
    let (task, _) = trs_app::tasks::get_task(&w.app, &commits[0].parse().unwrap()).await.unwrap();
    assert!(matches!(task.kind, trs_app::tasks::TaskKind::Commit { .. }), "{task:?}");
    assert!(bodies(&sqs, &promote).await.is_empty(), "nothing on another kind's queue");
}

/// SES refuses mail from a sender the account has not verified: that is recorded as not sent
/// at once (`SendError::Refused`), not retried as a fault; once verified, the same mail goes.
#[tokio::test]
async fn ses_refuses_an_unverified_sender_for_good() {
    use trs_app::mail::{Mailer, SendError};
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let mailer = trs_messaging_aws::SesMailer::new(&config);
    let message = || {
        lettre::Message::builder()
            .from("Foo Releases <releases@foo.example>".parse().unwrap())
            .to("dev@foo.example".parse().unwrap())
            .subject("[VOTE] Release foo 1.0")
            .body("Please vote.".to_string())
            .unwrap()
    };
    let refused = mailer.send(message()).await.expect_err("the sender is not verified");
    assert!(matches!(&refused, SendError::Refused(why) if why.contains("MessageRejected")), "{refused:?}");
    aws_sdk_sesv2::Client::new(&config)
        .create_email_identity()
        .email_identity("releases@foo.example")
        .send()
        .await
        .unwrap();
    let accepted = mailer.send(message()).await.unwrap();
    // SES gives the mail an id of its own in place of the message's: trs keeps it, as what
    // replies on the list name.
    // moto answers in us-east-1, where SES writes ids on email.amazonses.com.
    let id = accepted.replaced_id.expect("the id SES answered with");
    let local = id.strip_prefix('<').and_then(|i| i.strip_suffix("@email.amazonses.com>"));
    assert!(local.is_some_and(|l| !l.is_empty() && !l.contains(['<', '>', '@'])), "{id}");
}
