//! A real S3-compatible server on loopback for the object-store sensor tests: moto's server
//! from PyPI, installed if missing and started on a free port. If it cannot be installed or
//! started, the test fails with the reason; it is never skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    /// Installs moto's server if needed, and starts it.
    ///
    /// # Panics
    /// If Python, pip or the server fail: the test needs the server.
    pub fn start() -> Moto {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let present = Command::new(&python)
            .args(["-c", "import moto.server"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !present {
            let install = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "moto[server]>=5,<6"])
                .output()
                .unwrap_or_else(|error| panic!("cannot run {python} to install moto: {error}"));
            assert!(
                install.status.success(),
                "pip could not install moto[server]: {}",
                String::from_utf8_lossy(&install.stderr)
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port on loopback");
        let mut child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start moto's server: {error}"));
        // The server says where it runs on stderr once it listens.
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Running on") => break,
                Some(Ok(line)) => seen.push(line),
                _ => {
                    let _ = child.kill();
                    panic!("moto's server did not start:\n{}", seen.join("\n"));
                }
            }
        }
        // Keep reading, so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Creates a bucket (moto does not check signatures, so a plain request does).
    ///
    /// # Panics
    /// If the server refuses.
    pub fn create_bucket(&self, bucket: &str) {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("moto listens");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("request sent");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response read");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "creating bucket {bucket}: {response}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
