//! Not a test: the stack as deployed (support/aws_stack.rs), held open for an operator to try
//! with the `trs` CLI. `scripts/aws-stack.sh` runs it; see docs/lambda.md, "The stack as
//! deployed, on one machine".

use crate::support::aws_stack::AwsStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the operator's local stack, held open until its standard input closes: scripts/aws-stack.sh"]
async fn the_operators_local_stack() {
    let stack = AwsStack::start().await;
    println!("The stack is up: every function under its own role on moto with IAM enforced.");
    println!("In another shell (the operator's credentials are the harness's, allowed everything):\n");
    for (name, value) in stack.cli_env() {
        println!("export {name}={}", shlex::try_quote(&value).expect("no NUL in the environment"));
    }
    println!(
        "\nThe API (TRS_URL) is {}; CloudFront (the site, /current, /archive) is {}.",
        stack.api_url, stack.cdn_url
    );
    println!("Commands here: `tick` runs the lifecycle schedule once, `cost` shows the requests");
    println!("each function made since the last look (judged against its role), Ctrl-D stops.\n");
    // Standard input is read on a thread of its own: a blocking read, ended by Ctrl-D.
    let (send, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        match line.trim() {
            "tick" => println!("{:#}", stack.tick().await),
            "cost" => {
                stack.settle().await;
                let (cost, problems) = stack.cost();
                println!("{cost:#?}");
                for problem in problems {
                    println!("NOT ALLOWED BY THE TEMPLATE: {problem}");
                }
            }
            "" => {}
            other => println!("unknown command {other:?}: tick, cost, or Ctrl-D"),
        }
    }
}
