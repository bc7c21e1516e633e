//! Headless Chromium for the browser tier: Debian's `chromium`, driven over WebDriver by its
//! `chromedriver` (started here on a free loopback port) through fantoccini. Each [`Page`] is a
//! browser of its own with a fresh profile, as two people at two machines would be, unless it
//! is [`Page::another_window`] of one, which shares its cookies as a second tab does.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::app::free_port;

/// How long a page may take to show what a test waits for before the test fails instead of
/// hanging; it is not a speed assertion.
pub const WAIT: Duration = Duration::from_secs(20);

/// The flags that keep Chromium from reaching out to the network (this machine has none) and
/// from needing a display, a GPU or a sandbox.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
];

/// A running `chromedriver`, stopped when the test ends, however it ends.
pub struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port and waits until it accepts connections.
    pub fn start() -> Driver {
        let chromium = which("chromium")
            .or_else(|| which("chromium-browser"))
            .expect("chromium is installed (tests/run installs Debian's chromium)");
        let driver = which("chromedriver")
            .expect("chromedriver is installed (tests/run installs Debian's chromium-driver)");
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            port,
            chromium,
        }
    }

    /// Opens a new browser with an empty profile of its own.
    pub async fn page(&self) -> Page {
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| flag.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium.to_string_lossy(),
                "args": args,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("the capabilities are a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("chromedriver opens a Chromium session");
        Page {
            client,
            window: None,
            _profile: Arc::new(profile),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
pub struct Page {
    client: Client,
    /// The window this page drives when its browser has several.
    window: Option<WindowHandle>,
    _profile: Arc<tempfile::TempDir>,
}

impl Page {
    /// A second window of this page's browser: the same cookies, so the same signed-in user and
    /// session, in a tab of its own.
    pub async fn another_window(&mut self) -> Page {
        let first = self
            .client
            .window()
            .await
            .expect("the first window's handle");
        self.window = Some(first);
        let second = self
            .client
            .new_window(true)
            .await
            .expect("chromium opens a tab");
        Page {
            client: self.client.clone(),
            window: Some(second.handle),
            _profile: Arc::clone(&self._profile),
        }
    }

    /// Makes this page's window the one the driver's commands go to.
    async fn focus(&self) {
        if let Some(window) = &self.window {
            self.client
                .switch_to_window(window.clone())
                .await
                .expect("the window is open");
        }
    }

    pub async fn goto(&self, url: &str) {
        self.focus().await;
        self.client.goto(url).await.expect("the page loads");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.focus().await;
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(error) => panic!("script failed: {error}\n{script}"),
        }
    }

    /// Evaluates an expression.
    pub async fn eval(&self, expression: &str) -> Value {
        self.run(&format!("return ({expression});"), Vec::new())
            .await
    }

    /// Waits until `expression` is truthy and returns its value; fails the test, naming `what`,
    /// after [`WAIT`].
    pub async fn wait_for(&self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.eval(expression).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body.innerHTML").await;
                panic!("timed out waiting for {what}: `{expression}` is {value}\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the field matched by `selector`, as a user would.
    pub async fn type_into(&self, selector: &str, text: &str) {
        self.focus().await;
        let field = self
            .client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("no field {selector}: {error}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Chooses the local file `path` in the `<input type=file>` matched by `selector`, as a user
    /// picking it would: WebDriver's file upload is the path typed into the input.
    pub async fn choose_file(&self, selector: &str, path: &Path) {
        self.focus().await;
        let input = self
            .client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("no file input {selector}: {error}"));
        input
            .send_keys(&path.to_string_lossy())
            .await
            .unwrap_or_else(|error| panic!("choosing {} in {selector}: {error}", path.display()));
    }

    /// Clicks the element matched by `selector`.
    pub async fn click(&self, selector: &str) {
        self.focus().await;
        let element = self
            .client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("nothing to click at {selector}: {error}"));
        element.click().await.unwrap();
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        self.focus().await;
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}
