//! A loopback listener that serves each connection on a thread of its own, shared by the stand-in and the proxies: dropping it stops accepting, shuts every open connection down and waits for their threads.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What serves one accepted connection, on its own thread.
pub(crate) type Serve = dyn Fn(TcpStream) + Send + Sync;

pub(crate) struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: any free port) and hands each connection to `serve`.
    pub fn start(port: u16, serve: Arc<Serve>) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let accept_stopping = Arc::clone(&stopping);
        let accept = thread::spawn(move || accept_loop(&listener, &accept_stopping, &serve));
        Ok(Server {
            addr,
            stopping,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, SeqCst);
        // accept() only returns on a connection, so make one.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, stopping: &AtomicBool, serve: &Arc<Serve>) {
    let mut open: Vec<(TcpStream, JoinHandle<()>)> = Vec::new();
    for stream in listener.incoming() {
        if stopping.load(SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors or similar: don't spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        // A handle to shut the connection down with when the server stops.
        let Ok(handle) = stream.try_clone() else {
            continue;
        };
        let serve = Arc::clone(serve);
        open.retain(|(_, thread)| !thread.is_finished());
        open.push((handle, thread::spawn(move || serve(stream))));
    }
    // Clients may keep idle keep-alive connections open; close them so every thread ends.
    for (stream, thread) in open {
        let _ = stream.shutdown(Shutdown::Both);
        let _ = thread.join();
    }
}
