/**
 * Stored secrets under the encryption keyring: each ciphertext names its key and is bound to its
 * table, column and row; the old single key still opens what it sealed; rotation rewrites rows.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { livekitKeys, webhookEndpoints } from "../../src/db/schema";
import { sealedAt } from "../../src/db/sealed";
import { reencryptSecrets } from "../../src/jobs/reencrypt";
import { bytesToBase64 } from "../../src/lib/base64";
import { decryptSecret, encryptSecret } from "../../src/lib/secrets";
import { livekitKeyPair } from "../../src/livekit-keys/service";
import { signingSecrets } from "../../src/webhooks/delivery";
import { rows } from "../support/db";
import { createTenant } from "../support/factories";
import { createLivekitKey } from "../support/livekit-keys";
import { createEndpoint } from "../support/webhook-receiver";

const OLD_KEY = "an-old-single-encryption-key-0123456789";
const NEW_KEY = "the-new-primary-encryption-key-0123456789";

/** A config like the tests' own, with the keyring vars replaced. */
function configWith(vars: { PULSE_ENCRYPTION_KEYS?: string; PULSE_ENCRYPTION_KEY?: string }) {
  return loadConfig({ ...env, PULSE_ENCRYPTION_KEYS: undefined, PULSE_ENCRYPTION_KEY: undefined, ...vars });
}

/** What Pulse wrote before the keyring: `v1.<iv>.<ct>`, AES-GCM under HKDF(PULSE_ENCRYPTION_KEY), no AAD. */
async function legacySeal(plaintext: string, masterKey: string): Promise<string> {
  const encoder = new TextEncoder();
  const material = await crypto.subtle.importKey("raw", encoder.encode(masterKey), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("pulse-at-rest-v1"), info: new Uint8Array() },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt"],
  );
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(plaintext));
  return `v1.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ct))}`;
}

async function endpointRow(id: string) {
  const row = await createDb(env.DB).select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
  return row!;
}

describe("sealed secrets", () => {
  it("refuses to sign with a webhook secret whose ciphertext was copied onto another endpoint's row", async () => {
    const { user, project } = await createTenant();
    const victim = await createEndpoint(user.token, project.id, { url: "https://victim.example.com/hooks" });
    const attacker = await createEndpoint(user.token, project.id, { url: "https://attacker.example.com/hooks" });
    const [stolen] = await rows<{ secret_encrypted: string }>("SELECT secret_encrypted FROM webhook_endpoints WHERE id = ?", victim.id);
    await env.DB.prepare("UPDATE webhook_endpoints SET secret_encrypted = ? WHERE id = ?").bind(stolen!.secret_encrypted, attacker.id).run();
    const config = loadConfig(env);
    await expect(signingSecrets(await endpointRow(attacker.id), config, Date.now())).rejects.toThrow();
    expect(await signingSecrets(await endpointRow(victim.id), config, Date.now())).toEqual([victim.secret]);
  });

  it("refuses a ciphertext moved to another column of the same row", async () => {
    const config = loadConfig(env);
    const sealed = await encryptSecret("whsec_x", config.encryptionKeys, sealedAt(webhookEndpoints.secretEncrypted, "whk_1"));
    await expect(decryptSecret(sealed, config.encryptionKeys, sealedAt(webhookEndpoints.previousSecretEncrypted, "whk_1"))).rejects.toThrow();
    await expect(decryptSecret(sealed, config.encryptionKeys, sealedAt(livekitKeys.secretEncrypted, "whk_1"))).rejects.toThrow();
    expect(await decryptSecret(sealed, config.encryptionKeys, sealedAt(webhookEndpoints.secretEncrypted, "whk_1"))).toBe("whsec_x");
  });

  it("refuses to sign LiveKit-format webhooks with a LiveKit key secret copied onto another key's row", async () => {
    const { user, project } = await createTenant();
    const victim = await createLivekitKey(user, project.id);
    const attacker = await createLivekitKey(user, project.id);
    const [stolen] = await rows<{ secret_encrypted: string }>("SELECT secret_encrypted FROM livekit_keys WHERE id = ?", victim.id);
    await env.DB.prepare("UPDATE livekit_keys SET secret_encrypted = ? WHERE id = ?").bind(stolen!.secret_encrypted, attacker.id).run();
    const deps = { db: createDb(env.DB), config: loadConfig(env) };
    await expect(livekitKeyPair(deps, project.id, attacker.id)).rejects.toThrow();
    expect((await livekitKeyPair(deps, project.id, victim.id))?.apiSecret).toBe(victim.api_secret);
  });

  it("names its key in every ciphertext it writes", async () => {
    const { user, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://hooks.example.com/a" });
    const [row] = await rows<{ secret_encrypted: string }>("SELECT secret_encrypted FROM webhook_endpoints WHERE id = ?", endpoint.id);
    expect(row!.secret_encrypted.startsWith(`v2.${loadConfig(env).encryptionKeys.primary}.`)).toBe(true);
  });
});

describe("the keyring", () => {
  it("still opens secrets sealed with the old PULSE_ENCRYPTION_KEY, read as key k0", async () => {
    const { user, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://hooks.example.com/old" });
    await env.DB.prepare("UPDATE webhook_endpoints SET secret_encrypted = ? WHERE id = ?").bind(await legacySeal("whsec_from_before", OLD_KEY), endpoint.id).run();
    const config = configWith({ PULSE_ENCRYPTION_KEYS: `k1:${NEW_KEY}`, PULSE_ENCRYPTION_KEY: OLD_KEY });
    expect(config.encryptionKeys.primary).toBe("k1");
    expect(await signingSecrets(await endpointRow(endpoint.id), config, Date.now())).toEqual(["whsec_from_before"]);
    // Without the old key in the ring the same row cannot be opened.
    await expect(signingSecrets(await endpointRow(endpoint.id), configWith({ PULSE_ENCRYPTION_KEYS: `k1:${NEW_KEY}` }), Date.now())).rejects.toThrow(/k0/);
  });

  it("seals with the first key and opens with any", async () => {
    const at = sealedAt(webhookEndpoints.secretEncrypted, "whk_ring");
    const before = configWith({ PULSE_ENCRYPTION_KEYS: `a:${OLD_KEY}` }).encryptionKeys;
    const after = configWith({ PULSE_ENCRYPTION_KEYS: `b:${NEW_KEY},a:${OLD_KEY}` }).encryptionKeys;
    const old = await encryptSecret("s", before, at);
    expect(old.startsWith("v2.a.")).toBe(true);
    expect(await decryptSecret(old, after, at)).toBe("s");
    expect((await encryptSecret("s", after, at)).startsWith("v2.b.")).toBe(true);
  });

  it("rejects malformed keyrings naming PULSE_ENCRYPTION_KEYS", () => {
    for (const bad of ["k1", `k.1:${NEW_KEY}`, "k1:short", `k1:${NEW_KEY},k1:${OLD_KEY}`, ""]) {
      expect(() => configWith({ PULSE_ENCRYPTION_KEYS: bad }), bad).toThrow(ConfigError);
    }
    expect(() => configWith({ PULSE_ENCRYPTION_KEYS: `k1:${NEW_KEY}` })).not.toThrow();
  });
});

describe("rotation", () => {
  it("rewrites every sealed row under the new primary key, in bounded batches, and the secrets still work", async () => {
    const { user, project } = await createTenant();
    const endpoints = [];
    for (let i = 0; i < 3; i++) endpoints.push(await createEndpoint(user.token, project.id, { url: `https://hooks.example.com/${i}` }));
    const lkKey = await createLivekitKey(user, project.id);
    // Seal them under the old key, as a deployment before the rotation would have.
    const db = createDb(env.DB);
    const oldKeys = configWith({ PULSE_ENCRYPTION_KEYS: `k0:${OLD_KEY}` }).encryptionKeys;
    for (const e of endpoints) {
      await env.DB.prepare("UPDATE webhook_endpoints SET secret_encrypted = ? WHERE id = ?").bind(await encryptSecret(e.secret, oldKeys, sealedAt(webhookEndpoints.secretEncrypted, e.id)), e.id).run();
    }
    await env.DB.prepare("UPDATE livekit_keys SET secret_encrypted = ? WHERE id = ?").bind(await legacySeal(lkKey.api_secret, OLD_KEY), lkKey.id).run();

    // An endpoint whose value no key opens (another test's tampering, a lost key) must not stall it.
    const rotated = configWith({ PULSE_ENCRYPTION_KEYS: `k2:${NEW_KEY},k0:${OLD_KEY}` });
    let runs = 0;
    let result;
    do {
      result = await reencryptSecrets(db, rotated.encryptionKeys, 2);
      for (const e of endpoints) expect(result.unreadable.join()).not.toContain(e.id);
      runs++;
    } while (result.more && runs < 50);
    expect(runs).toBeGreaterThan(1);

    const sealed = await rows<{ v: string }>(
      `SELECT secret_encrypted AS v FROM webhook_endpoints WHERE project_id = ?1 UNION ALL SELECT secret_encrypted FROM livekit_keys WHERE project_id = ?1`,
      project.id,
    );
    expect(sealed.length).toBe(4);
    expect(sealed.filter((r) => !r.v.startsWith("v2.k2."))).toEqual([]);

    // The old key can go: everything opens with the new one alone.
    const newOnly = configWith({ PULSE_ENCRYPTION_KEYS: `k2:${NEW_KEY}` });
    for (const e of endpoints) expect(await signingSecrets(await endpointRow(e.id), newOnly, Date.now())).toEqual([e.secret]);
    expect((await livekitKeyPair({ db, config: newOnly }, project.id, lkKey.id))?.apiSecret).toBe(lkKey.api_secret);
  });
});
