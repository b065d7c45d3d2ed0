export * from './asterisk.types';
export * from './packet-info';
export * from './call-tracker';
