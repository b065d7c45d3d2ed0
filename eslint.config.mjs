// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * libs/asterisk's rooms import downwards only (docs/asterisk.md, "Where is what"): core <- originate,
 * queues, transfers <- parking <- calls <- resync <- call-tracker / asterisk.library; debug reads
 * core only. A *.commands.ts file never imports a *.tracker.ts file, nor the other way round.
 */
const ASTERISK_ROOMS = {
  core: [],
  originate: ['core'],
  queues: ['core'],
  transfers: ['core'],
  parking: ['core', 'originate'],
  calls: ['core', 'originate', 'parking', 'transfers'],
  resync: ['core', 'originate', 'parking', 'transfers', 'queues', 'calls'],
  debug: ['core'],
};
const asteriskRoomRules = Object.entries(ASTERISK_ROOMS).flatMap(([room, below]) => {
  const above = Object.keys(ASTERISK_ROOMS)
    .filter((r) => r !== room && !below.includes(r))
    .map((r) => `../${r}/*`);
  const top = ['../call-tracker', '../asterisk.library', '../asterisk-line-session', '../index'];
  const rule = (extra) => ({
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [...above, ...top],
            message: `libs/asterisk/src/${room} may import only from ${['core', ...below].filter((v, i, a) => a.indexOf(v) === i).join(', ')} (rooms import downwards).`,
          },
          ...extra,
        ],
      },
    ],
  });
  const dir = `libs/asterisk/src/${room}`;
  return [
    {
      files: [`${dir}/**/*.ts`],
      ignores: [`${dir}/**/*.commands.ts`],
      rules: rule([
        { group: ['**/*.commands'], message: 'A tracker room never imports a command file.' },
      ]),
    },
    {
      files: [`${dir}/**/*.commands.ts`],
      rules: rule([
        { group: ['**/*.tracker'], message: 'A command file never imports a tracker file.' },
      ]),
    },
  ];
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/^@app\\/[a-z-]+\\/(?!testing$)/]',
          message: 'Import a library through its barrel (@app/<lib>), never a deep path.',
        },
      ],
    },
  },
  ...asteriskRoomRules,
);
