// The `console` block: the web console served at /console (README "Web console").
import { ArrayUnique, IsBoolean, IsString, Matches } from 'class-validator';
import { ToBoolean, ToStringList } from './config.decorators';

export class ConsoleConfig {
  /** Serve the web console at /console. */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  enabled = true;

  /** Lines the console always shows, idle ones too (others appear while they have calls). */
  @ToStringList()
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9_.+-]{1,64}$/, {
    each: true,
    message: 'each line must be letters, digits, _ . + - (at most 64), e.g. "305"',
  })
  @ArrayUnique()
  lines: string[] = [];
}
