//! The admin function on Lambda: people, keys and projects over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(|env| Ok(trs_lambda::Function::new(env.app.clone()).http(trs_function_admin::routes()))).await
}
