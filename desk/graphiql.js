'use strict';
// The desk's token (sessionStorage), if one was entered there, goes
// with every request and the socket's connection_init.
const token = sessionStorage.getItem('storyline-token');
const url = new URL('/graphql', window.location.href);
const wsUrl = url.href.replace(/^http/, 'ws');
const headers = token ? { Authorization: 'Bearer ' + token } : {};
const fetcher = GraphiQL.createFetcher({ url: url.href, headers,
  wsClient: graphqlWs.createClient({ url: wsUrl, connectionParams: token ? { token } : {} }) });

// What opens in the editor until the reader writes a query of their own
// (GraphiQL keeps that one in localStorage): the demo story, at a cut on
// each time axis.
const EXAMPLE = `# The demo story (serve --demo):
# now, as it stood on 10 July 2021, and as the
# newsroom knew it on 12 July at noon.
# Run it with the button or Ctrl-Enter;
# the docs are on the left.
query Demo {
  story(slug: "kabul-airport-2021") {
    now: snapshot { title status version }
    happenedBy10July: stateAt(
      at: "2021-07-10T00:00:00Z"
    ) {
      developments { occurredAt headline }
    }
    knownOn12July: stateAt(
      knownAt: "2021-07-12T12:00:00Z"
    ) {
      version
      developments { headline }
    }
    history(first: 5) {
      nodes { version type recordedAt }
    }
  }
}
`;

const backToDesk = React.createElement('a', { href: '/', id: 'back-to-desk',
  style: { fontSize: '1rem', textDecoration: 'none' } }, '← storyline desk');
ReactDOM.createRoot(document.getElementById('graphiql'))
  .render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true, defaultQuery: EXAMPLE },
    React.createElement(GraphiQL.Logo, {}, backToDesk)));
