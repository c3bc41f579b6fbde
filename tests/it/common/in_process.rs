//! `TestServer`: the server in this test process, through `labstore::app::start`, with every
//! listener on 127.0.0.1 port 0, on a tokio runtime of its own (on a thread of its own, so
//! sync `#[test]`s and `#[tokio::test]`s of either flavor use it alike); and the fixtures
//! tests build on it (`with_bucket`, `with_user`, the root's SDK clients).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use labstore::app;
use labstore::config::{Config, Sources};
use labstore::state::{Listener, State};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::{Endpoints, LOOPBACK_PORT_0, ROOT_SECRET};

/// A started server. Dropping it stops the server in its shutdown order (as `stop` does) and
/// then removes its temp dir, if it owns one.
pub struct TestServer {
    pub dir: PathBuf,
    pub admin: SocketAddr,
    pub iam: SocketAddr,
    pub s3: SocketAddr,
    /// The server's shared state, for tests that look inside (a database handle, metrics).
    state: State,
    /// The server's runtime, for `block_on`.
    runtime: Handle,
    /// Sent (or dropped) to begin the shutdown.
    stop: Option<oneshot::Sender<()>>,
    /// The thread that owns the runtime; it ends once the shutdown has completed.
    thread: Option<JoinHandle<()>>,
    /// Numbers the users `with_user` creates.
    users: AtomicUsize,
    /// Last, so that it is removed after everything above is closed.
    temp: Option<tempfile::TempDir>,
}

/// What the server thread hands back once the listeners are bound.
struct Started {
    addrs: [SocketAddr; 3],
    state: State,
    runtime: Handle,
}

/// A user made by `TestServer::with_user`, with SDK clients signing as it.
pub struct User {
    pub name: String,
    pub access_key: String,
    pub secret: String,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
}

impl TestServer {
    /// A server in a temp dir it owns, with the root secret `ROOT_SECRET`.
    pub fn start() -> TestServer {
        let temp = tempfile::tempdir().expect("a temp dir");
        let mut server = TestServer::start_with(temp.path(), &[])
            .unwrap_or_else(|e| panic!("the test server did not start: {e}"));
        server.temp = Some(temp);
        server
    }

    /// A server in `dir`, which the caller keeps (to restart on it, or to look at the files),
    /// configured as the binary would be with the `LABSTORE_*` environment variables `env`
    /// (read through `config::load`, relative paths from `dir`). Every listener is on
    /// 127.0.0.1 port 0 and the root secret is `ROOT_SECRET` unless `env` says otherwise.
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Result<TestServer, String> {
        let config = config(dir, env)?;
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || serve(config, ready, stopped))
            .expect("spawn the test server's thread");
        let started = match started.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(refused)) => {
                let _ = thread.join();
                return Err(refused);
            }
            // The thread panicked before it could answer: show its panic.
            Err(_) => std::panic::resume_unwind(thread.join().expect_err("a panic")),
        };
        let [admin, iam, s3] = started.addrs;
        let server = TestServer {
            dir: dir.to_path_buf(),
            admin,
            iam,
            s3,
            state: started.state,
            runtime: started.runtime,
            stop: Some(stop),
            thread: Some(thread),
            users: AtomicUsize::new(0),
            temp: None,
        };
        server.wait_ready();
        Ok(server)
    }

    /// `/ready` answers 200 as soon as `start` returns today; waiting for it anyway keeps the
    /// fixture honest if startup ever gains a step after binding.
    fn wait_ready(&self) {
        // Over HTTPS the probe would need the test's CA; bound is ready there (see above).
        if self.state.tls.get(Listener::Admin).is_some() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while super::get(self.admin, "/ready").status != 200 {
            assert!(Instant::now() < deadline, "never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server in its shutdown order and waits until it has stopped.
    pub fn stop(self) {
        drop(self);
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The id of the process serving: this one (for `labstore bench --pid`).
    #[expect(
        clippy::unused_self,
        reason = "asked of a server, as of the spawned one; this one is the test process"
    )]
    pub fn pid(&self) -> i32 {
        i32::try_from(std::process::id()).expect("a process id is a positive pid_t")
    }

    /// Runs `future` to completion on the server's runtime: SDK calls from a sync `#[test]`.
    /// Not from inside an async test (tokio refuses to block a thread that drives tasks).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// An S3 client signing as the root.
    pub fn root_s3(&self) -> aws_sdk_s3::Client {
        super::s3_client(self)
    }

    /// An IAM client signing as the root.
    pub fn root_iam(&self) -> aws_sdk_iam::Client {
        super::root_iam(self)
    }

    /// Creates bucket `name` as the root and returns the root's S3 client.
    pub async fn with_bucket(&self, name: &str) -> aws_sdk_s3::Client {
        let s3 = self.root_s3();
        s3.create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateBucket {name}: {e:?}"));
        s3
    }

    /// Creates an IAM user (`fixture-user-1`, `-2`, … on this server) whose one inline
    /// policy is `policy`, with an access key, and returns it with clients signing as it.
    pub async fn with_user(&self, policy: &str) -> User {
        let n = self.users.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("fixture-user-{n}");
        let root = self.root_iam();
        let (access_key, secret) = super::user_with_key(&root, &name).await;
        root.put_user_policy()
            .user_name(&name)
            .policy_name("fixture")
            .policy_document(policy)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutUserPolicy for {name}: {e:?}"));
        User {
            s3: super::s3_client_as(self, &access_key, &secret),
            iam: super::iam_client(self.iam, &access_key, &secret),
            name,
            access_key,
            secret,
        }
    }
}

impl Endpoints for TestServer {
    fn addr(&self, listener: Listener) -> SocketAddr {
        match listener {
            Listener::Admin => self.admin,
            Listener::Iam => self.iam,
            Listener::S3 => self.s3,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        let Some(thread) = self.thread.take() else {
            return;
        };
        // A second panic while a failed test unwinds would abort the whole binary.
        let joined = thread.join();
        assert!(
            joined.is_ok() || std::thread::panicking(),
            "the test server's thread panicked while stopping"
        );
    }
}

/// The configuration the binary would load in `dir` with the environment `env` on top of the
/// fixture's own (loopback, port 0, the test root secret).
fn config(dir: &Path, env: &[(&str, &str)]) -> Result<Config, String> {
    let own = [("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET)];
    let mut vars: BTreeMap<String, String> = LOOPBACK_PORT_0
        .iter()
        .chain(&own)
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    vars.extend(super::postgres::engine_for(dir));
    vars.extend(
        env.iter()
            .map(|&(name, value)| (name.to_owned(), value.to_owned())),
    );
    let sources = Sources {
        cwd: dir.to_path_buf(),
        env: vars.into_iter().collect(),
        ..Sources::default()
    };
    let mut config = labstore::config::load(&sources).map_err(|e| e.to_string())?;
    // The binary resolves relative paths from its working directory, which the spawned
    // harness sets to `dir`.
    let backend = &mut config.backend;
    let storage = &mut backend.storage;
    for path in [
        &mut storage.data_dir,
        &mut storage.keys_dir,
        &mut backend.audit.file.path,
    ] {
        if path.is_relative() {
            *path = dir.join(&*path);
        }
    }
    Ok(config)
}

/// The server thread: a runtime of its own, `app::start`, then `Running::stop` once `stop`
/// is sent or dropped.
fn serve(
    config: Config,
    ready: std::sync::mpsc::Sender<Result<Started, String>>,
    stop: oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("test-server-worker")
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let running = match app::start(config).await {
            Ok(running) => running,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return;
            }
        };
        let started = Started {
            addrs: Listener::ALL.map(|l| running.addr(l)),
            state: running.state().clone(),
            runtime: Handle::current(),
        };
        if ready.send(Ok(started)).is_ok() {
            let _ = stop.await;
        }
        running.stop().await;
    });
}
