import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './config.errors';
import { readLegacyXml } from './config.xml';

/** The guide's example, character for character (its `filePath=" "url=` has no blank between). */
const GUIDE_EXAMPLE = `<asterisk   filePath=" "url="10.0.15.185" port="5038"
userName="bpm" secret="bpm" originateContext="from-internal"
parkingLotContext="from-internal" autoPauseOnCommutationStart="true"
queueExtensionFormat="Local/{0}@from-queue/n" asyncOriginate="true"
sendRingStartedOnRingingState="true" traceQueuesState="false"
protocol="SIP/" packetInfoConfig=""/>`;

function refused(fn: () => unknown, check: (e: ConfigError) => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    check(e);
    return true;
  });
}

describe('readLegacyXml', () => {
  it("reads the guide's <asterisk/> example as written: attribute values as strings, untouched", () => {
    const { raw, notes } = readLegacyXml(GUIDE_EXAMPLE, 'x.config');
    assert.deepEqual(raw, {
      asterisk: {
        filePath: ' ',
        url: '10.0.15.185',
        port: '5038',
        userName: 'bpm',
        secret: 'bpm',
        originateContext: 'from-internal',
        parkingLotContext: 'from-internal',
        autoPauseOnCommutationStart: 'true',
        queueExtensionFormat: 'Local/{0}@from-queue/n',
        asyncOriginate: 'true',
        sendRingStartedOnRingingState: 'true',
        traceQueuesState: 'false',
        protocol: 'SIP/',
        packetInfoConfig: '',
      },
    });
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /no blank before attribute url \(line 1\)/);
  });

  it('finds <asterisk> anywhere in a whole .exe.config, any case, and names what it ignores', () => {
    const doc = `\uFEFF<?xml version="1.0" encoding="utf-8"?>
<!-- Terrasoft.Messaging.Service.exe.config -->
<configuration>
  <configSections>
    <section name="asterisk" type="Terrasoft.Messaging.Asterisk.Config, Terrasoft.Messaging.Asterisk" />
  </configSections>
  <terrasoft>
    <Asterisk FilePath="" URL="pbx.local" Secret="a&amp;b&lt;c&quot;d" xmlns:x="urn:x">
      <child/>
    </Asterisk>
  </terrasoft>
  <appSettings><add key="Port" value="2013" /></appSettings>
  <startup><supportedRuntime version="v4.0" /></startup>
</configuration>`;
    const { raw, notes } = readLegacyXml(doc, 'svc.exe.config');
    assert.deepEqual(raw, { asterisk: { FilePath: '', URL: 'pbx.local', Secret: 'a&b<c"d' } });
    const all = notes.join('\n');
    assert.match(all, /content inside <Asterisk> is ignored/);
    assert.match(all, /ignored: <configSections>, <appSettings>, <startup>/);
    assert.doesNotMatch(all, /<configuration>|<terrasoft>/);
  });

  it('refuses a file without <asterisk>, or with two', () => {
    refused(
      () => readLegacyXml('<configuration><appSettings/></configuration>', 'a.config'),
      (e) => assert.match(e.message, /a\.config: no <asterisk \.\.\.\/> element/),
    );
    refused(
      () => readLegacyXml('<c><asterisk url="a"/><asterisk url="b"/></c>', 'b.config'),
      (e) => assert.match(e.message, /2 <asterisk> elements/),
    );
  });

  it('reports broken XML by line and column, without quoting values', () => {
    refused(
      () =>
        readLegacyXml(
          '<configuration>\n  <asterisk secret="hunter2" url="x">\n</configuration>',
          'c.config',
        ),
      (e) => {
        assert.equal(e.code, 'CONFIG_INVALID_XML');
        assert.match(e.message, /c\.config: not valid XML at line \d+, column \d+/);
        assert.doesNotMatch(e.message, /hunter2/);
      },
    );
    refused(
      () => readLegacyXml('<asterisk secret="hunter2" secret="x"/>', 'd.config'),
      (e) => {
        assert.match(e.message, /Attribute 'secret' is repeated/);
        assert.doesNotMatch(e.message, /hunter2/);
      },
    );
  });

  it('does not expand entities without bound (a "billion laughs" file is refused, not run)', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lololololololololololololololololololololololololololololololololololololololol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<asterisk secret="&lol5;"/>`;
    let secret = '';
    try {
      secret = String(
        (readLegacyXml(lol, 'e.config').raw['asterisk'] as Record<string, unknown>)['secret'],
      );
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
    }
    assert.ok(secret.length < 200_000, `expanded to ${secret.length} characters`);
  });

  it('never reads an external entity (a file named by the XML)', () => {
    refused(
      () =>
        readLegacyXml(
          '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><asterisk secret="&e;"/>',
          'f.config',
        ),
      (e) => assert.match(e.message, /f\.config: not usable XML \(External entities/),
    );
  });
});
