// The web console at /console (console.enabled): static files built by scripts/build-console.mjs.
import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller';

@Module({ controllers: [ConsoleController] })
export class ConsoleModule {}
