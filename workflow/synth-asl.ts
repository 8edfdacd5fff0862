/**
 * `npm run workflow:asl`: writes `workflow/payment-to-vend.asl.json`, the definition the `dev` environment runs
 * (on AWS and, by default, under `npm start`), for reading and for the cost estimate. `npm start` synthesizes the
 * definition of the environment it runs itself (definition-cache.ts), so it never runs a stale file; a test
 * fails while this file and the construct disagree. Run it after every change to the construct or to dev's
 * workflow settings.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { environmentNamed } from '../infra/lib/environments.ts';
import { topologyFor } from '../system/topology.ts';
import { synthesizeLocalDefinition } from './local-definition.ts';

/** Where the generated ASL lives, and how it is written (pretty, with a final newline). */
export const ASL_PATH = fileURLToPath(new URL('./payment-to-vend.asl.json', import.meta.url));

/** What the checked-in file holds: the definition with dev's settings. */
export function checkedInDefinition(): Record<string, unknown> {
  return synthesizeLocalDefinition({ props: topologyFor(environmentNamed('dev')).workflow });
}

export function formatAsl(definition: unknown): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ASL_PATH, formatAsl(checkedInDefinition()));
  console.log(`wrote ${ASL_PATH}`);
}
