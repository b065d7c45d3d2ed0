import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FREEPBX_TRUNKS, LineNaming, linePatternProblem } from './line-naming';

const FORMAT = 'Local/{0}@from-queue/n';

describe('LineNaming: lines and trunks', () => {
  it('by default (FreePBX): a channel starting in from-trunk / from-pstn is a trunk, and its endpoint stays one', () => {
    const n = new LineNaming('SIP/', FORMAT);
    assert.equal(n.lineOfChannel('SIP/trunk-in-00000003', 'from-trunk'), undefined);
    assert.equal(n.lineOfChannel('SIP/provider-0000000a', 'from-pstn-provider'), undefined);
    // Later channels of the endpoint, whatever context they show, are still the trunk's.
    assert.equal(n.lineOfChannel('SIP/trunk-in-00000009', 'from-internal'), undefined);
    assert.equal(n.lineOfChannel('SIP/trunk-in-00000010'), undefined);
    assert.deepEqual(n.trunksLearned().sort(), ['provider', 'trunk-in']);
    // Extensions, whatever their name: the guide's SIP/office is the line office.
    assert.equal(n.lineOfChannel('SIP/305-00000004', 'from-internal'), '305');
    assert.equal(n.lineOfChannel('SIP/office-00000001', 'from-internal'), 'office');
    assert.equal(n.lineOfChannel('PJSIP/405-00000001', 'from-internal'), undefined, 'other tech');
  });

  it('asterisk.trunks by name and pattern, without regard to case; context patterns too', () => {
    const n = new LineNaming('PJSIP/', FORMAT, {
      trunks: ['carrier', 'trunk-*', 'sip?', 'context:incoming'],
      lines: [],
    });
    assert.equal(n.lineOfChannel('PJSIP/Carrier-00000001'), undefined);
    assert.equal(n.lineOfChannel('PJSIP/trunk-pj-00000001'), undefined);
    assert.equal(n.lineOfChannel('PJSIP/sip1-00000001'), undefined);
    assert.equal(n.lineOfChannel('PJSIP/sip12-00000001'), 'sip12');
    assert.equal(n.lineOfChannel('PJSIP/gw-00000001', 'incoming'), undefined);
    // No FreePBX default when trunks are given: from-trunk is just a context.
    assert.equal(n.lineOfChannel('PJSIP/405-00000001', 'from-trunk'), '405');
  });

  it('asterisk.lines: only the listed endpoints are lines', () => {
    const n = new LineNaming('SIP/', FORMAT, { trunks: FREEPBX_TRUNKS, lines: ['3??', 'office'] });
    assert.equal(n.lineOfChannel('SIP/305-00000001'), '305');
    assert.equal(n.lineOfChannel('SIP/office-00000001'), 'office');
    assert.equal(n.lineOfChannel('SIP/3050-00000001'), undefined);
    assert.equal(n.lineOfChannel('SIP/gateway-00000001'), undefined);
  });

  it('refuses malformed patterns, naming them (the config check uses the same rule)', () => {
    assert.equal(linePatternProblem('trunk-*', true), undefined);
    assert.equal(linePatternProblem('context:from-trunk*', true), undefined);
    assert.match(linePatternProblem('context:from-trunk*', false) ?? '', /not an endpoint name/);
    assert.match(linePatternProblem('a b', true) ?? '', /'a b' is not an endpoint name/);
    assert.match(linePatternProblem('context:x;y', true) ?? '', /not a context name/);
    assert.throws(
      () => new LineNaming('SIP/', FORMAT, { trunks: ['(.*)'], lines: [] }),
      /asterisk\.trunks: '\(\.\*\)'/,
    );
  });
});
