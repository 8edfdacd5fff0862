/**
 * Splitting migration files into the single statements the Data API runs, and reading the folder.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationFileError, MigrationSyntaxError } from './errors.ts';
import { loadMigrations } from './migrate.ts';
import { splitSqlStatements } from './split-sql.ts';

describe('splitSqlStatements', () => {
  it.each([
    {
      what: 'top-level semicolons',
      sql: 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);',
      statements: ['CREATE TABLE a (x int)', 'CREATE TABLE b (y int)'],
    },
    {
      what: 'semicolons inside string literals, with doubled quotes',
      sql: "INSERT INTO a VALUES ('it''s; fine'); SELECT 1",
      statements: ["INSERT INTO a VALUES ('it''s; fine')", 'SELECT 1'],
    },
    {
      what: "backslash-escaped quotes in E'' strings",
      sql: "SELECT E'a\\'; b'; SELECT 2",
      statements: ["SELECT E'a\\'; b'", 'SELECT 2'],
    },
    {
      what: 'quoted identifiers',
      sql: 'CREATE TABLE "odd;name" (x int); SELECT 3',
      statements: ['CREATE TABLE "odd;name" (x int)', 'SELECT 3'],
    },
    {
      what: 'dollar-quoted function bodies, tagged or not',
      sql: 'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql; DO $$ BEGIN NULL; END $$;',
      statements: [
        'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
        'DO $$ BEGIN NULL; END $$',
      ],
    },
    {
      what: 'comments, dropped (a colon in one would read as a Data API parameter)',
      sql: '-- note: first\nSELECT 1; /* outer /* inner; */ still: comment */ SELECT 2 -- trailing; x\n;',
      statements: ['SELECT 1', 'SELECT 2'],
    },
    {
      what: 'casts and positional parameters, untouched',
      sql: "SELECT '{}'::jsonb, $1::text",
      statements: ["SELECT '{}'::jsonb, $1::text"],
    },
    { what: 'nothing but blanks and comments', sql: '  ;\n-- only a comment\n; ', statements: [] },
  ])('splits $what', ({ sql, statements }) => {
    // Act
    const split = splitSqlStatements(sql);

    // Assess
    expect(split).toEqual(statements);
  });

  it.each([
    { what: 'string', sql: "SELECT 'open" },
    { what: 'quoted identifier', sql: 'SELECT "open' },
    { what: 'dollar-quoted string', sql: 'DO $x$ BEGIN' },
    { what: 'block comment', sql: 'SELECT 1 /* open' },
  ])('refuses an unterminated $what, naming where it starts', ({ sql }) => {
    // Act
    const split = () => splitSqlStatements(sql);

    // Assess
    expect(split).toThrow(MigrationSyntaxError);
    expect(split).toThrow(/line 1, column \d+/);
  });
});

describe('loadMigrations', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'migrations-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reads the shipped migrations, whose statements carry no Data API placeholders', async () => {
    // Act
    const migrations = await loadMigrations();

    // Assess
    expect(migrations.map((migration) => [migration.version, migration.name])).toEqual([
      [1, 'initial'],
      [2, 'appended_events'],
      [3, 'charge_outcomes'],
      [4, 'idempotency_keys_hashed'],
      [5, 'service_roles'],
      [6, 'follow_ups'],
      [7, 'reconciliation'],
    ]);
    for (const statement of migrations.flatMap((migration) => migration.statements)) {
      expect(statement.replace(/'[^']*'/g, "''").replace(/::/g, '')).not.toMatch(/:[A-Za-z_]/);
    }
  });

  it('orders files by version and ignores other files', async () => {
    // Prepare
    await writeFile(join(folder, '0010_later.sql'), 'SELECT 10;');
    await writeFile(join(folder, '0002_earlier.sql'), 'SELECT 2;');
    await writeFile(join(folder, 'README.md'), '# notes');

    // Act
    const migrations = await loadMigrations(folder);

    // Assess
    expect(migrations.map((migration) => `${migration.version}_${migration.name}`)).toEqual([
      '2_earlier',
      '10_later',
    ]);
  });

  it('gives the same checksum whatever the line endings', async () => {
    // Prepare
    await writeFile(join(folder, '0001_lf.sql'), 'SELECT 1;\nSELECT 2;\n');
    const other = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(other, '0001_lf.sql'), 'SELECT 1;\r\nSELECT 2;\r\n');

    // Act
    const [lf] = await loadMigrations(folder);
    const [crlf] = await loadMigrations(other);
    await rm(other, { recursive: true, force: true });

    // Assess
    expect(crlf?.checksum).toBe(lf?.checksum);
  });

  it.each([
    { what: 'a file not named <version>_<name>.sql', files: ['initial.sql'], message: /initial\.sql/ },
    { what: 'two files with one version', files: ['0003_a.sql', '003_b.sql'], message: /version 3/ },
  ])('refuses $what', async ({ files, message }) => {
    // Prepare
    for (const file of files) await writeFile(join(folder, file), 'SELECT 1;');

    // Act
    const failure = await loadMigrations(folder).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MigrationFileError);
    expect((failure as Error).message).toMatch(message);
  });
});
