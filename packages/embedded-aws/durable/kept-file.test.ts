import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptFile } from './kept-file.ts';

const folder = mkdtempSync(join(tmpdir(), 'kept-file-'));

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('keptFile', () => {
  it('makes the file once, in a folder it creates, and answers later callers from it', async () => {
    // Prepare
    const path = join(folder, 'new', 'made.txt');
    let makes = 0;
    const make = async () => {
      makes += 1;
      return `made ${makes}`;
    };

    // Act
    const first = await keptFile(path, make);
    const second = await keptFile(path, make);

    // Assess
    expect([first.toString(), second.toString(), makes]).toEqual(['made 1', 'made 1', 1]);
    expect(readdirSync(join(folder, 'new'))).toEqual(['made.txt']);
  });

  it('makes again what an earlier process left empty', async () => {
    // Prepare
    const path = join(folder, 'empty.bin');
    writeFileSync(path, '');

    // Act
    const made = await keptFile(path, async () => new Uint8Array([1, 2, 3]));

    // Assess
    expect([...made]).toEqual([1, 2, 3]);
    expect([...(await keptFile(path, async () => new Uint8Array([9])))]).toEqual([1, 2, 3]);
  });

  it('answers what it made when it cannot keep it', async () => {
    // Prepare: the folder to keep it in is a file, so the file cannot be written
    const notAFolder = join(folder, 'not-a-folder');
    writeFileSync(notAFolder, 'a file');

    // Act
    const made = await keptFile(join(notAFolder, 'made.txt'), async () => 'made anyway');

    // Assess
    expect(made.toString()).toBe('made anyway');
  });
});
