//! The console's dashboard: the last hour's requests, errors, latency and throughput drawn as
//! SVG from sampled totals, storage per bucket the principal may list, and recent
//! authorization denials shown only to a principal allowed to read the trail (the root here),
//! never to a read-only user.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;

use crate::common::{TestServer, ROOT_SECRET};
use crate::console::Browser;

#[test]
fn the_dashboard_draws_the_last_hour_and_lists_denials_to_those_who_may_see_them() {
    let server = TestServer::start();
    let state = server.state();
    let t0 = SystemTime::now() - Duration::from_secs(10);
    state.history.record(t0, state.metrics.requests.totals());
    let s3 = server.root_s3();
    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ));
    server.block_on(async {
        s3.create_bucket().bucket("charted").send().await.unwrap();
        s3.put_object()
            .bucket("charted")
            .key("k")
            .body(ByteStream::from(vec![7u8; 300_000]))
            .send()
            .await
            .unwrap();
        for _ in 0..20 {
            s3.get_object()
                .bucket("charted")
                .key("k")
                .send()
                .await
                .unwrap();
        }
        // A denial for the list.
        let refused = reader
            .s3
            .put_object()
            .bucket("charted")
            .key("no")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert!(refused.is_err());
    });
    state
        .history
        .record(SystemTime::now(), state.metrics.requests.totals());

    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let page = browser.get("/dashboard");
    assert_eq!(page.status, 200);
    let body = page.body;
    assert_eq!(body.matches("<svg class=\"chart\"").count(), 4, "{body}");
    assert!(body.contains("<polyline"), "a line per series");
    assert!(body.contains("requests/s"), "the summary: {body}");
    assert!(body.contains(">charted<"), "the bucket's bar");
    assert!(body.contains("292.9 KiB"), "its size");
    assert!(body.contains("Recent authorization denials"));
    assert!(
        body.contains(&format!("user/{}", reader.name)),
        "who was denied"
    );
    assert!(body.contains("PutObject"));
    assert!(!body.contains("style="), "no inline style under the CSP");
    assert!(!body.contains("<script>"));

    let mut as_reader = Browser::new(&server);
    as_reader.sign_in(&reader.access_key, &reader.secret);
    let page = as_reader.get("/dashboard");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg class=\"chart\""));
    assert!(
        !page.body.contains("Recent authorization denials"),
        "denials name principals: not for a reader"
    );
}
