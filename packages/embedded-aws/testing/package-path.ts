/**
 * A file of this package by its path from the package's folder, made absolute: tests run from the repository's
 * root (`npm test`) or from the package's (`npm test -w @payment-to-vend/embedded-aws`), and a fixture or a
 * Lambda handler named by a relative path would resolve against whichever folder that is.
 *
 * @example
 * packagePath('lambda/fixtures/handlers.ts'); // '/…/packages/embedded-aws/lambda/fixtures/handlers.ts'
 */
import { fileURLToPath } from 'node:url';

export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
