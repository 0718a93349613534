// A graphql-ws client (the npm package clients use) for the Rust tests:
//   node subscribe.mjs ws://127.0.0.1:PORT/graphql COUNT [afterPosition] [storyId]
// Subscribes to `events`, prints "ready" once the server acknowledged the
// connection, then one JSON line per event received ({position, storyId,
// version}), and exits 0 after COUNT events (1 on an error).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, countText, afterPosition, storyId] = process.argv.slice(2);
const count = Number(countText);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  on: { connected: () => console.log('ready') },
});
let received = 0;
client.subscribe(
  {
    query: `subscription($after: String, $story: UUID) {
      events(afterPosition: $after, storyId: $story) { position storyId version type }
    }`,
    variables: { after: afterPosition || null, story: storyId || null },
  },
  {
    next: ({ data, errors }) => {
      if (errors) {
        console.error(JSON.stringify(errors));
        process.exit(1);
      }
      console.log(JSON.stringify(data.events));
      received += 1;
      if (received === count) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      console.error(JSON.stringify(error));
      process.exit(1);
    },
    complete: () => process.exit(received === count ? 0 : 1),
  },
);
