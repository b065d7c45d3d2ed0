export * from './ami-packet';
export * from './ami-decoder';
export * from './ami-encoder';
