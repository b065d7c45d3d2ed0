export * from './asterisk.types';
export * from './packet-info';
export * from './call-tracker';
export * from './asterisk.module-definition';
export * from './asterisk.library';
export * from './asterisk.module';
export { FREEPBX_TRUNKS, linePatternProblem } from './core/line-naming';
export {
  NO_DIAL_RULE,
  dialRewriteProblem,
  parseDialTarget,
  type DialRule,
  type DialTarget,
} from './core/dial-number';
export {
  ANSWER_MODES,
  answerHeaderProblem,
  type AnswerMode,
  type AnswerOptions,
} from './core/answer-mode';
