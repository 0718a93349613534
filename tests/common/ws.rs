//! A small graphql-transport-ws client for the tests.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Subscriber {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub const EVENTS: &str = "subscription($after: String, $story: UUID) {
    events(afterPosition: $after, storyId: $story) { id position storyId version type } }";

impl Subscriber {
    /// Connects, initialises (with a token payload when given) and waits
    /// for the acknowledgement.
    pub async fn connect(http_url: &str, init: Value) -> Subscriber {
        let mut subscriber = Subscriber::initialise(http_url, init).await;
        let ack = subscriber.message().await.expect("an answer to init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        subscriber
    }

    /// Whether a connection_init with `init` is refused: the socket closes
    /// (or answers with an error) instead of acknowledging.
    pub async fn refused(http_url: &str, init: Value) -> bool {
        let mut subscriber = Subscriber::initialise(http_url, init).await;
        match tokio::time::timeout(std::time::Duration::from_secs(5), subscriber.message()).await {
            Ok(None) => true,
            Ok(Some(answer)) => answer["type"] != "connection_ack",
            Err(_) => false,
        }
    }

    /// Opens the socket and says nothing.
    pub async fn open(http_url: &str) -> Subscriber {
        let url = format!("{}/graphql", http_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("ws url");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        Subscriber { socket }
    }

    /// Reads until the server closes the socket: the close code it sent
    /// (None for a close without one, or a connection just dropped).
    pub async fn close_code(&mut self) -> Option<u16> {
        while let Some(frame) = self.socket.next().await {
            match frame {
                Ok(Message::Close(close)) => return close.map(|c| u16::from(c.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    pub async fn send_frame(&mut self, message: Message) -> bool {
        self.socket.send(message).await.is_ok()
    }

    /// Opens the socket and sends connection_init, without waiting.
    async fn initialise(http_url: &str, init: Value) -> Subscriber {
        let url = format!("{}/graphql", http_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("ws url");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        let init = json!({"type": "connection_init", "payload": init});
        socket
            .send(Message::text(init.to_string()))
            .await
            .expect("init sent");
        Subscriber { socket }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let message = json!({"id": id, "type": "subscribe",
                             "payload": {"query": query, "variables": variables}});
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("subscribe sent");
    }

    /// The next protocol message (pings answered on the way), or `None`
    /// when the socket closed.
    pub async fn message(&mut self) -> Option<Value> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" {
                        let pong = json!({"type": "pong"}).to_string();
                        let _ = self.socket.send(Message::text(pong)).await;
                        continue;
                    }
                    return Some(value);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next `next` payload's event, panicking on anything else.
    pub async fn event(&mut self) -> Value {
        let message = self.message().await.expect("the socket stays open");
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"]["events"].clone()
    }

    /// `count` events, each within `timeout`.
    pub async fn events(&mut self, count: usize, timeout: std::time::Duration) -> Vec<Value> {
        let mut events = Vec::with_capacity(count);
        for _ in 0..count {
            let event = tokio::time::timeout(timeout, self.event())
                .await
                .unwrap_or_else(|_| panic!("event {} of {count} did not come", events.len() + 1));
            events.push(event);
        }
        events
    }

    pub async fn send_raw(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("sent");
    }
}

/// The position of an event as the number it encodes.
pub fn position(event: &Value) -> i64 {
    event["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("a decimal position")
}
