/**
 * What can go wrong while migrating the schema. Every error names the migration it concerns, so an operator
 * knows which file to look at; the Data API's own error is kept as `cause`.
 */

/** The base of every migration failure. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** A file in the migrations folder is not named `<version>_<name>.sql`, or two files share a version. */
export class MigrationFileError extends MigrationError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationFileError';
  }
}

/** A migration's SQL cannot be split into statements (an unterminated string, identifier or comment). */
export class MigrationSyntaxError extends MigrationError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationSyntaxError';
  }
}

/** An applied migration's file has changed since it was applied: edit by adding a new migration instead. */
export class MigrationChecksumMismatchError extends MigrationError {
  readonly version: number;

  constructor(version: number, name: string, applied: string, current: string) {
    super(
      `migration ${version} (${name}) was applied with checksum ${applied} but its file now has ${current}; ` +
        'applied migrations must not change: add a new migration instead',
    );
    this.name = 'MigrationChecksumMismatchError';
    this.version = version;
  }
}

/** A pending migration is older than one already applied (usually a branch merged out of order). */
export class MigrationOutOfOrderError extends MigrationError {
  readonly version: number;

  constructor(version: number, name: string, latestApplied: number) {
    super(
      `migration ${version} (${name}) is pending but ${latestApplied} is already applied; ` +
        'give it a version after the latest applied one',
    );
    this.name = 'MigrationOutOfOrderError';
    this.version = version;
  }
}

/** Another runner held the migration lock for longer than this runner was willing to wait. */
export class MigrationLockTimeoutError extends MigrationError {
  constructor(waitedMs: number) {
    super(`another migration runner held the migration lock for ${waitedMs} ms; giving up`);
    this.name = 'MigrationLockTimeoutError';
  }
}

/** A statement of a migration failed: the whole migration was rolled back and is still pending. */
export class MigrationFailedError extends MigrationError {
  readonly version: number;
  /** 1-based position of the failing statement in the migration, or 0 if recording it failed. */
  readonly statement: number;

  constructor(version: number, name: string, statement: number, sql: string, options: ErrorOptions) {
    const where = statement === 0 ? 'while recording it' : `at statement ${statement} (${excerpt(sql)})`;
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`migration ${version} (${name}) failed ${where} and was rolled back${reason}`, options);
    this.name = 'MigrationFailedError';
    this.version = version;
    this.statement = statement;
  }
}

function excerpt(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/**
 * A service's database user could not be given its sign-in: its secret names a user that is not the service's
 * role (or the role's rotation alternate), the user does not exist, or the statement failed. The message never
 * holds the password or the statement.
 */
export class ServiceLoginError extends MigrationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceLoginError';
  }
}
