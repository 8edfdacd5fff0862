/**
 * `npm run workflow:asl`: writes `workflow/payment-to-vend.asl.json`, the definition the embedded AWS runs,
 * from the construct with its default tuning. Run it after every change to the construct; a test fails
 * while the file and the construct disagree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { synthesizeLocalDefinition } from './local-definition.ts';

/** Where the generated ASL lives, and how it is written (pretty, with a final newline). */
export const ASL_PATH = fileURLToPath(new URL('./payment-to-vend.asl.json', import.meta.url));

export function formatAsl(definition: unknown): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ASL_PATH, formatAsl(synthesizeLocalDefinition()));
  console.log(`wrote ${ASL_PATH}`);
}
