export * from './asterisk.types';
export * from './packet-info';
export * from './call-tracker';
export * from './asterisk.module-definition';
export * from './asterisk.library';
export * from './asterisk.module';
