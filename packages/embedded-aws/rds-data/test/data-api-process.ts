/**
 * A child process for crash tests: the Data API routes over a PGlite database in `<dataDir>`, printing
 * `ready <endpoint>` once it listens. Tests kill it with SIGKILL and start it again on the same folder.
 *
 * Usage: node --import tsx packages/embedded-aws/rds-data/test/data-api-process.ts <dataDir>
 */
import type { AddressInfo } from 'node:net';
import { createAwsServer } from '../../aws/server.ts';
import { dataApiRoutes } from '../data-api-routes.ts';
import { DataApiDatabase } from '../database.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: data-api-process.ts <dataDir>');

const database = await DataApiDatabase.open({ dataDir });
const server = createAwsServer({ services: [], routes: dataApiRoutes(database) });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
