/**
 * What the REST API accepts in the strings it hands to the PBX. Nothing here may carry a control
 * character (libs/ami's encoder refuses them all again), and each pattern is named in the 400 it
 * causes. A line is a plain line name, by the same rule as the gateway's ExtensionName.
 */
import { AMI_CONTROL_CHARACTERS } from '@app/ami';
import { LINE_NAME_PATTERN, LINE_NAME_RULE } from '@app/messaging';

export const LINE_PATTERN = LINE_NAME_PATTERN;
export const LINE_RULE = LINE_NAME_RULE;

/**
 * A dialled number or extension: digits, letters and the dialplan's * # + _ . @ -, and the blanks
 * and brackets of a number as a CRM shows it (`+7 (916) 123-45-67`); the Asterisk library removes
 * those and applies the dial rule (asterisk.dialPrefix, dialRewrites).
 */
export const NUMBER_PATTERN = /^[A-Za-z0-9*#+_.@() -]{1,80}$/;
export const NUMBER_RULE =
  'digits, letters and * # + _ . @ -, with blanks and brackets as a CRM writes numbers (1 to 80)';

/** A dialplan context or queue name. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,80}$/;
export const NAME_RULE = 'letters, digits and _ . - (1 to 80)';

/** Control characters no value sent to the PBX may hold: libs/ami's encoder set, checked early. */
export const CONTROL_CHARACTERS = AMI_CONTROL_CHARACTERS;

/** Free text sent to the PBX (caller id, pause reason): 1 to 80 characters, none of them control. */
export const TEXT_PATTERN = new RegExp(`^[^${AMI_CONTROL_CHARACTERS.source.slice(1, -1)}]{1,80}$`);
export const TEXT_RULE = '1 to 80 characters without control characters';

export const DTMF_PATTERN = /^[0-9*#A-Da-d]{1,32}$/;
export const DTMF_RULE = '1 to 32 of 0-9 * # A-D';

export const CALL_ID_PATTERN = /^[A-Za-z0-9_.:;@+-]{1,128}$/;
export const CALL_ID_RULE = 'a call id as GET /api/v1/calls shows it';

/** A channel variable name. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_()]{0,63}$/;
