export enum ConfigErrorCode {
  FileNotFound = 'CONFIG_FILE_NOT_FOUND',
  FileUnreadable = 'CONFIG_FILE_UNREADABLE',
  InvalidJson = 'CONFIG_INVALID_JSON',
  InvalidXml = 'CONFIG_INVALID_XML',
  Invalid = 'CONFIG_INVALID',
}

/** Configuration that cannot be used. `problems` holds one line per offending key; no secret values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Warnings found before the refusal (unknown keys, ...): shown with the problems. */
  warnings: string[] = [];
  constructor(
    readonly code: ConfigErrorCode,
    readonly problems: string[],
    header = 'Invalid configuration',
  ) {
    super(`${header}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
