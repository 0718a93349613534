// Runs every graphql-http server audit against the URL given as the first
// argument and prints one line per audit. Exits 1 unless all are ok.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const results = await auditServer({ url });
let failed = 0;
for (const result of results) {
  if (result.status !== 'ok') {
    failed += 1;
    let detail = result.reason;
    if (result.response) {
      const body = await result.response.text().catch(() => '');
      detail += ` [${result.response.status} ${result.response.headers.get('content-type')}] ${body.slice(0, 200)}`;
    }
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${detail}`);
  } else {
    console.log(`ok ${result.id} ${result.name}`);
  }
}
console.log(`${results.length - failed}/${results.length} audits ok`);
process.exit(failed === 0 ? 0 : 1);
