import { describe, expect, it } from 'vitest';
import { credentialsOf, REDACTED, redactCredentials } from '../../../../lambdas/sink/mongo/errors';

describe('redactCredentials', () => {
  it('removes the userinfo of any MongoDB URI quoted in a message', () => {
    expect(redactCredentials('cannot reach mongodb+srv://svc:p%40ss@cluster0.example.mongodb.net/db?x=1')).toBe(
      `cannot reach mongodb+srv://${REDACTED}@cluster0.example.mongodb.net/db?x=1`,
    );
  });

  it("removes the URI's user name and password wherever they appear, raw or percent-decoded", () => {
    // Given the credentials of a URI the driver refuses (an unescaped "/" in the user name)
    const credentials = credentialsOf('mongodb://ops/alice:p%40ss-word@127.0.0.1:9/');
    // Then driver messages quoting them out of URI context lose them
    expect(redactCredentials('Username contains unescaped characters ops/alice', credentials)).toBe(
      `Username contains unescaped characters ${REDACTED}`,
    );
    expect(redactCredentials('auth failed for p@ss-word', credentials)).toBe(`auth failed for ${REDACTED}`);
  });

  it('finds no credentials in a URI without userinfo, or in something that is not a MongoDB URI', () => {
    expect(credentialsOf('mongodb://127.0.0.1:27017/')).toEqual([]);
    expect(credentialsOf('https://user:pw@example.com/')).toEqual([]);
  });
});
