'use strict';
// The desk's token (sessionStorage), if one was entered there, goes
// with every request and the socket's connection_init.
const token = sessionStorage.getItem('storyline-token');
const url = new URL('/graphql', window.location.href);
const wsUrl = url.href.replace(/^http/, 'ws');
const headers = token ? { Authorization: 'Bearer ' + token } : {};
const fetcher = GraphiQL.createFetcher({ url: url.href, headers,
  wsClient: graphqlWs.createClient({ url: wsUrl, connectionParams: token ? { token } : {} }) });
ReactDOM.createRoot(document.getElementById('graphiql'))
  .render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
