import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../src/webhooks/url";

describe("webhook URL rules", () => {
  it("allows public https URLs in production", () => {
    for (const url of ["https://hooks.example.com/pulse", "https://example.com:8443/x?y=1", "https://8.8.8.8/", "https://[2606:4700::1111]/"]) {
      expect(webhookUrlProblem(url, false), url).toBeNull();
    }
  });

  it("refuses plain http, other schemes and credentials in production", () => {
    expect(webhookUrlProblem("http://hooks.example.com/", false)).toMatch(/https/);
    expect(webhookUrlProblem("ws://hooks.example.com/", false)).toMatch(/http/);
    expect(webhookUrlProblem("https://u:p@hooks.example.com/", false)).toMatch(/credentials/);
  });

  it("refuses loopback, private, link-local, CGNAT, ULA and local names in production, however they are spelled", () => {
    for (const url of [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://printer.local/",
      "https://metadata.google.internal/",
      "https://intranet/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://0x7f000001/",
      "https://2130706433/",
      "https://0.0.0.0/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://100.127.255.254/",
      "https://224.0.0.1/",
      "https://[::1]/",
      "https://[::]/",
      "https://[fd00::1]/",
      "https://[fc00::1]/",
      "https://[fe80::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://localhost../",
      "https://127.0.0.1../",
      "https://[::ffff:0:7f00:1]/",
      "https://[2002:a9fe:a9fe::]/",
      "https://[2002:7f00:1::]/",
      "https://[2001:0:4136:e378::1]/",
      "https://[100::1]/",
      "https://192.0.2.10/",
      "https://198.51.100.7/",
      "https://203.0.113.9/",
    ]) {
      expect(webhookUrlProblem(url, false), url).toMatch(/private|local/);
    }
  });

  it("does not mistake public neighbours of private ranges for private ones", () => {
    for (const url of ["https://172.32.0.1/", "https://100.128.0.1/", "https://11.0.0.1/", "https://192.169.0.1/", "https://[2001:4860::8888]/", "https://[2002:808:808::]/"]) {
      expect(webhookUrlProblem(url, false), url).toBeNull();
    }
  });

  it("allows http and private hosts when private URLs are allowed (development), still http(s) only", () => {
    expect(webhookUrlProblem("http://127.0.0.1:9000/hook", true)).toBeNull();
    expect(webhookUrlProblem("http://localhost/", true)).toBeNull();
    expect(webhookUrlProblem("file:///etc/passwd", true)).toMatch(/http/);
  });
});
