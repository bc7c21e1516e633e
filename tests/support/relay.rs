//! A loopback TCP relay that a test can cut, as a network partition would, and restore.

use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP relay that a test can cut and restore: in front of Redis, it takes Redis away from one
/// instance while the others keep it; in front of an app, it takes one browser's network away.
pub struct Relay {
    pub port: u16,
    state: Arc<RelayState>,
}

#[derive(Default)]
struct RelayState {
    /// While true, new connections are refused and open ones have been closed.
    cut: AtomicBool,
    /// Both ends of every relayed connection, so that `cut` can close them.
    open: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

impl Relay {
    /// Relays 127.0.0.1:`port` (a free one) to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(RelayState::default());
        let relay_state = Arc::clone(&state);
        std::thread::spawn(move || {
            while !relay_state.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) if relay_state.cut.load(Ordering::SeqCst) => {
                        let _ = client.shutdown(Shutdown::Both);
                    }
                    Ok((client, _)) => relay(&relay_state, client, target),
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(error) => panic!("the relay stopped accepting: {error}"),
                }
            }
        });
        Relay { port, state }
    }

    /// Closes every relayed connection and refuses new ones, as a network partition would.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.state.stop.store(true, Ordering::SeqCst);
    }
}

/// Copies bytes both ways between `client` and the target until either side closes.
fn relay(state: &RelayState, client: TcpStream, target: u16) {
    client.set_nonblocking(false).unwrap();
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let mut open = state.open.lock().unwrap();
    open.push(client.try_clone().unwrap());
    open.push(server.try_clone().unwrap());
    for (mut from, mut to) in [
        (client.try_clone().unwrap(), server.try_clone().unwrap()),
        (server, client),
    ] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}
