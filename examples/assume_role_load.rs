//! AssumeRole throughput against a running LabStore: how many calls per second its IAM port
//! answers at a few concurrencies (issue 16's target: ≥ 2,000/s).
//!
//! Setup, through the IAM API as the root: user `load-assumer` (an access key, an inline
//! policy allowing `sts:AssumeRole` on the role) and role `load-role` (trusting the account,
//! an inline policy allowing `s3:GetObject`). Then, for each concurrency, that many callers
//! send AssumeRole in a loop over kept-alive connections for the duration (after a warmup),
//! each call a form POST signed for `sts` as the AWS SDKs send it; every answer is checked to
//! carry credentials. Prints calls/s and latency percentiles; at the end deletes what it made.
//!
//! ```text
//! cargo run --release --example assume_role_load -- http://127.0.0.1:9001 admin SECRET \
//!     [SECONDS=10] [CONCURRENCIES=1,4,16,64]
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const USER: &str = "load-assumer";
const ROLE: &str = "load-role";

#[derive(Clone)]
struct Caller {
    access_key: String,
    secret: String,
}

#[derive(Clone)]
struct Api {
    /// `host:port` of the IAM listener.
    authority: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    /// One Query API call signed for `service`: the status and the body.
    async fn call(
        &self,
        caller: &Caller,
        service: &str,
        params: &[(&str, &str)],
    ) -> Result<(u16, String), String> {
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (name, value) in params {
                form.append_pair(name, value);
            }
            form.finish()
        };
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", self.authority))
            .header("host", &self.authority)
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(())
            .map_err(|e| e.to_string())?;
        let identity = aws_credential_types::Credentials::new(
            &caller.access_key,
            &caller.secret,
            None,
            None,
            "load",
        )
        .into();
        let signing = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            request.uri().to_string(),
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &signing)
            .map_err(|e| e.to_string())?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let request = request.map(|()| Full::new(Bytes::from(body)));
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// An IAM call that must succeed.
    async fn iam(&self, root: &Caller, params: &[(&str, &str)]) -> String {
        match self.call(root, "iam", params).await {
            Ok((200, body)) => body,
            other => panic!("{}: {other:?}", params[0].1),
        }
    }
}

/// The text of `<name>` in `xml`, if there.
fn element<'x>(xml: &'x str, name: &str) -> Option<&'x str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find('<')?;
    Some(&xml[start..end])
}

/// Percentile `p` (0..=100) of sorted `values`.
fn percentile(values: &[Duration], p: usize) -> Duration {
    values[(values.len() - 1) * p / 100]
}

async fn run(api: &Api, caller: &Caller, role_arn: &str, concurrency: usize, seconds: u64) {
    let warmup = Duration::from_secs(2);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..concurrency {
        let (api, caller, role_arn) = (api.clone(), caller.clone(), role_arn.to_owned());
        let (measuring, stop, errors) = (measuring.clone(), stop.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let session_name = format!("load-{n}");
            let params = [
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", role_arn.as_str()),
                ("RoleSessionName", session_name.as_str()),
            ];
            let mut latencies = Vec::new();
            while !stop.load(Relaxed) {
                let counted = measuring.load(Relaxed);
                let started = Instant::now();
                let answer = api.call(&caller, "sts", &params).await;
                let took = started.elapsed();
                match answer {
                    Ok((200, body)) if element(&body, "SessionToken").is_some() => {
                        if counted && !stop.load(Relaxed) {
                            latencies.push(took);
                        }
                    }
                    other => {
                        if errors.fetch_add(1, Relaxed) == 0 {
                            eprintln!("AssumeRole failed: {other:?}");
                        }
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Relaxed);
    let elapsed = started.elapsed();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a caller task"));
    }
    latencies.sort_unstable();
    let count = latencies.len();
    #[expect(
        clippy::cast_precision_loss,
        reason = "a count of calls, far below 2^52"
    )]
    let rate = count as f64 / elapsed.as_secs_f64();
    println!(
        "concurrency {concurrency:>3}: {rate:>8.0} AssumeRole/s  ({count} calls in {elapsed:.1?}, \
         {} errors)  p50 {:.2?}  p99 {:.2?}  max {:.2?}",
        errors.load(Relaxed),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies[count - 1],
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, root_key, root_secret, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: assume_role_load http://IAM_HOST:PORT ROOT_ACCESS_KEY ROOT_SECRET [SECONDS] [C1,C2,...]"
        );
        std::process::exit(2);
    };
    let seconds: u64 = rest.first().map_or(10, |s| s.parse().expect("SECONDS"));
    let concurrencies: Vec<usize> = rest.get(1).map_or(vec![1, 4, 16, 64], |s| {
        s.split(',')
            .map(|c| c.parse().expect("a concurrency"))
            .collect()
    });
    let api = Api {
        authority: endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
        client: Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build_http(),
    };
    let root = Caller {
        access_key: root_key.clone(),
        secret: root_secret.clone(),
    };
    let v = ("Version", "2010-05-08");
    // The root's ARN, arn:aws:iam::<account>:root, names the account.
    let identity = api.iam(&root, &[("Action", "GetUser"), v]).await;
    let account = element(&identity, "Arn")
        .and_then(|arn| arn.strip_prefix("arn:aws:iam::"))
        .and_then(|rest| rest.split(':').next())
        .expect("the root's ARN names the account")
        .to_owned();
    let role_arn = format!("arn:aws:iam::{account}:role/{ROLE}");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::load/*"}]}"#;
    let assume = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}]}}"#
    );
    api.iam(&root, &[("Action", "CreateUser"), v, ("UserName", USER)])
        .await;
    api.iam(
        &root,
        &[
            ("Action", "PutUserPolicy"),
            v,
            ("UserName", USER),
            ("PolicyName", "assume"),
            ("PolicyDocument", &assume),
        ],
    )
    .await;
    let key = api
        .iam(
            &root,
            &[("Action", "CreateAccessKey"), v, ("UserName", USER)],
        )
        .await;
    let caller = Caller {
        access_key: element(&key, "AccessKeyId").expect("a key").to_owned(),
        secret: element(&key, "SecretAccessKey")
            .expect("a secret")
            .to_owned(),
    };
    api.iam(
        &root,
        &[
            ("Action", "CreateRole"),
            v,
            ("RoleName", ROLE),
            ("AssumeRolePolicyDocument", &trust),
        ],
    )
    .await;
    api.iam(
        &root,
        &[
            ("Action", "PutRolePolicy"),
            v,
            ("RoleName", ROLE),
            ("PolicyName", "read"),
            ("PolicyDocument", read),
        ],
    )
    .await;

    for concurrency in concurrencies {
        run(&api, &caller, &role_arn, concurrency, seconds).await;
    }

    let cleanup: [&[(&str, &str)]; 4] = [
        &[
            ("Action", "DeleteRolePolicy"),
            ("RoleName", ROLE),
            ("PolicyName", "read"),
        ],
        &[("Action", "DeleteRole"), ("RoleName", ROLE)],
        &[
            ("Action", "DeleteUserPolicy"),
            ("UserName", USER),
            ("PolicyName", "assume"),
        ],
        &[
            ("Action", "DeleteAccessKey"),
            ("UserName", USER),
            ("AccessKeyId", &caller.access_key),
        ],
    ];
    for params in cleanup {
        let mut params = params.to_vec();
        params.push(v);
        api.iam(&root, &params).await;
    }
    api.iam(&root, &[("Action", "DeleteUser"), v, ("UserName", USER)])
        .await;
}
