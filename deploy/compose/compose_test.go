package compose_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/escai-framework/escai/internal/cli"
)

// root is the module root, where docker-compose.yml and the Dockerfile are.
const root = "../.."

func loadRoot(t *testing.T) *project {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProject(root, data)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

// rootChecks are the checks docker-compose.yml must pass, with what this
// deployment expects of it.
func rootChecks() map[string]check {
	return map[string]check{
		"keys":       checkKeys,
		"images":     checkImages,
		"nats":       checkNATS,
		"nats urls":  checkNATSURLs,
		"redis":      checkRedis,
		"escai":      checkEscai,
		"depends_on": checkDependsOn,
		"secrets":    checkSecrets,
		"volumes":    checkVolumes,
		"ports":      checkPorts(map[string][]int{"nats-1": {4222, 8222}}),
		"replicas": checkReplicas(map[string]int{
			"ingest": 2, "pii-worker": 2,
			// One until partitions and fencing land with the audit issue.
			"audit-writer": 1,
			"provision":    1, "authz": 1,
		}),
		"topology": checkTopology,
	}
}

// TestComposeFile runs every check on docker-compose.yml.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	p := loadRoot(t)
	for name, c := range rootChecks() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, f := range c(p) {
				t.Error(f)
			}
		})
	}
}

// TestMutationsCaught edits docker-compose.yml in small, plausible wrong
// ways and expects the checks to report each, so TestComposeFile passing
// means something.
func TestMutationsCaught(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ old, new, want string }{
		"floating nats tag":        {"nats:2.15.3-alpine", "nats:alpine", `image "nats:alpine": tag "alpine" names no release`},
		"racy nats healthcheck":    {`/healthz"]`, `/healthz?js-enabled-only=true"]`, "passes before the JetStream meta leader is elected"},
		"one ingest":               {"replicas: 2", "replicas: 1", "ingest: 1 replicas, want 2"},
		"provision disagrees":      {`"--stream-replicas", "3"`, `"--stream-replicas", "1"`, "provision: --stream-replicas=1 overrides ESCAI_STREAM_REPLICAS=3"},
		"misspelt variable":        {"ESCAI_REDIS_URL_FILE", "ESCAI_REDIS_URI_FILE", "audit-writer: ESCAI_REDIS_URI_FILE is not a variable"},
		"flag of another binary":   {`command: ["ingest"]`, `command: ["ingest", "--redis-url", "redis://redis:6379/0"]`, "ingest: ingest: unknown flag: --redis-url"},
		"nats on every interface":  {`"127.0.0.1:4222:4222"`, `"4222:4222"`, `nats-1: publishes port 4222 on ""`},
		"authz started":            {`profiles: ["authz"]`, ``, "authz: authz is not built yet"},
		"production":               {"ESCAI_SECURITY_PROFILE: testing", "ESCAI_SECURITY_PROFILE: production", "TLS is required (profile production), but NATS service nats-1 has no tls block"},
		"undeclared secret":        {"[escai_secret_key, redis_url]", "[escai_secret_key, redis_pw]", `audit-writer: secret "redis_pw" is not declared`},
		"secret not mounted":       {"[escai_secret_key, redis_url]", "[escai_secret_key]", "audit-writer: ESCAI_REDIS_URL_FILE=/run/secrets/redis_url, but no secret is mounted there"},
		"stream data in container": {"- nats-2-data:/data", "", `nats-2: jetstream store_dir "/data/jetstream" is not on a named volume`},
		"node left out of the URL": {",nats://nats-3:4222", "", "ESCAI_NATS_URL leaves out nats-3"},
		"no append-only file":      {`"--appendonly", "yes"`, `"--appendonly", "no"`, "redis: command lacks --appendonly yes"},
		"no wait for redis":        {"      redis:\n        condition: service_healthy\n", "", "audit-writer reads Redis but does not depend on a redis service"},
		"provision restarts":       {"restart: \"no\"\n    command: [\"escai\"", "restart: on-failure\n    command: [\"escai\"", "ingest: waits for provision to complete, but provision has restart: on-failure"},
		"wrong config mounted":     {"nats-3.conf:/etc/nats/nats.conf", "nats-2.conf:/etc/nats/nats.conf", `nats-3: server_name is "nats-2"`},
		"include not mounted":      {"      - ./deploy/compose/nats-common.conf:/etc/nats/nats-common.conf:ro\n      - nats-1-data", "      - nats-1-data", "nats-1: ./deploy/compose/nats-1.conf includes ./nats-common.conf, which is not mounted"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("docker-compose.yml no longer contains %q: update the mutation", tc.old)
			}
			p, err := parseProject(root, []byte(strings.Replace(string(data), tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, c := range rootChecks() {
				all = append(all, c(p)...)
			}
			if !slices.ContainsFunc(all, func(f string) bool { return strings.Contains(f, tc.want) }) {
				t.Errorf("no finding contains %q; findings:\n%s", tc.want, strings.Join(all, "\n"))
			}
		})
	}
}

// checkTopology: the services DESIGN.md's deployment promises, with the
// one-shot provisioner running `escai streams apply`.
func checkTopology(p *project) []string {
	var out []string
	want := []string{"audit-writer", "authz", "ingest", "nats-1", "nats-2", "nats-3", "pii-worker", "provision", "redis"}
	if got := p.serviceNames(); !slices.Equal(got, want) {
		out = append(out, "services are "+strings.Join(got, ", ")+"; want "+strings.Join(want, ", "))
	}
	if prov, ok := p.file.Services["provision"]; ok {
		cmd, err := resolve(words(prov.Command))
		if err != nil || cmd.CommandPath() != "escai streams apply" {
			out = append(out, "provision: does not run escai streams apply")
		}
		if prov.Restart != "no" {
			out = append(out, "provision: restart is "+prov.Restart+", want \"no\" (a one-shot)")
		}
	}
	return out
}

const natsNode = `
  n1:
    image: nats:2.15.3-alpine
    command: ["-c", "/etc/nats/nats.conf"]
    volumes: ["./n1.conf:/etc/nats/nats.conf:ro", "n1-data:/data"]
    healthcheck: {test: ["CMD", "wget", "-q", "--spider", "http://localhost:8222/healthz"]}
`

const natsConf = `server_name: n1
listen: 0.0.0.0:4222
http_port: 8222
jetstream { store_dir: /data/js, max_memory_store: 1G, max_file_store: 1G }
cluster { name: c, listen: 0.0.0.0:6222, routes: [nats-route://n1:6222] }
`

// TestChecksCatch feeds every check small compose files with one thing
// wrong, and the valid fixtures, so that each check is shown able to fail
// and not to fail on good input.
func TestChecksCatch(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		compose string
		files   map[string]string
		check   check
		want    []string
	}{
		"keys: typo": {
			compose: "services:\n  a:\n    image: x:1.0\n    depend_on: [b]\nservice: {}\nx-ok: 1\n",
			check:   checkKeys,
			want:    []string{`a: unknown key "depend_on"`, `top level: unknown key "service"`},
		},
		"images: latest, untagged, floating, unnamed build": {
			compose: "services:\n  a: {image: nats:latest}\n  b: {image: redis}\n  c: {image: redis:7-alpine}\n  d: {build: .}\n  e: {image: 'nats@sha256:0123'}\n",
			check:   checkImages,
			want: []string{
				`a: image "nats:latest" is :latest`,
				`b: image "redis" has no tag, which means :latest`,
				`c: image "redis:7-alpine": tag "7-alpine" names no release; pin one such as 2.15.3-alpine`,
				`d: no image: tag (a built image needs one too, e.g. escai:dev)`,
			},
		},
		"images: build context without Dockerfile": {
			compose: "services:\n  a: {image: 'escai:dev', build: {context: ./nowhere}}\n",
			check:   checkImages,
			want:    []string{`a: build context "./nowhere" has no Dockerfile`},
		},
		"nats: valid fixture": {
			compose: "services:" + natsNode + "volumes: {n1-data: {}}\n",
			files:   map[string]string{"n1.conf": natsConf},
			check:   checkNATS,
		},
		"nats: js-enabled-only healthcheck": {
			compose: "services:" + strings.Replace(natsNode, "/healthz", "/healthz?js-enabled-only=true", 1),
			files:   map[string]string{"n1.conf": natsConf},
			check:   checkNATS,
			want:    []string{"n1: the healthcheck fetches http://localhost:8222/healthz?js-enabled-only=true, which passes before the JetStream meta leader is elected; use the full /healthz"},
		},
		"nats: no healthcheck, plain image with wget": {
			compose: "services:" + strings.Replace(natsNode, "healthcheck:", "x-healthcheck:", 1) +
				"  n2:" + strings.Replace(strings.Replace(natsNode, "2.15.3-alpine", "2.15.3", 1), "  n1:", "", 1),
			files: map[string]string{"n1.conf": natsConf},
			check: checkNATS,
			want: []string{
				`n1: cluster "c" on port 6222 routes to [n1:6222], want a named cluster routing to [n1:6222 n2:6222]`,
				"n1: no healthcheck, so nothing can wait for the node",
				`n2: server_name is "n1", want the service name "n2" (unique per node, and what routes resolve)`,
				`n2: cluster "c" on port 6222 routes to [n1:6222], want a named cluster routing to [n1:6222 n2:6222]`,
				"n2: the healthcheck runs wget, which only the -alpine nats image has (the plain one is distroless)",
			},
		},
		"nats: config read-write, store not on a named volume": {
			compose: "services:" + strings.NewReplacer(":ro", "", "n1-data:/data", "./data:/data").Replace(natsNode),
			files:   map[string]string{"n1.conf": natsConf, "data/.keep": ""},
			check:   checkNATS,
			want: []string{
				"n1: config /etc/nats/nats.conf is mounted read-write; add :ro",
				`n1: jetstream store_dir "/data/js" is not on a named volume: the stream data would die with the container`,
			},
		},
		"nats: config nats-server rejects": {
			compose: "services:" + natsNode,
			files:   map[string]string{"n1.conf": natsConf + "no_such_option: 1\n"},
			check:   checkNATS,
			want:    []string{"n1: nats-server rejects ./n1.conf: REPLACED"},
		},
		"nats: include not mounted, no jetstream limits": {
			compose: "services:" + natsNode,
			files: map[string]string{
				"n1.conf":     "server_name: n1\ninclude ./common.conf\n",
				"common.conf": strings.Replace(strings.Replace(natsConf, "server_name: n1\n", "", 1), ", max_memory_store: 1G, max_file_store: 1G", "", 1),
			},
			check: checkNATS,
			want: []string{
				"n1: ./n1.conf includes ./common.conf, which is not mounted at /etc/nats/common.conf",
				"n1: jetstream sets no max_memory_store or max_file_store",
			},
		},
		"nats: no config flag": {
			compose: "services:\n  n1: {image: nats:2.15.3-alpine, command: [-js]}\n",
			check:   checkNATS,
			want:    []string{"n1: command does not pass -c <config file>"},
		},
		"nats urls: stranger, wrong port, missing node": {
			compose: "services:" + natsNode + "  n2:" + strings.Replace(natsNode, "  n1:", "", 1) +
				"  a: {image: 'escai:dev', environment: {ESCAI_NATS_URL: 'nats://n1:4223,nats://other:4222'}}\n  b: {image: 'escai:dev'}\n",
			files: map[string]string{"n1.conf": natsConf},
			check: checkNATSURLs,
			want: []string{
				"a: ESCAI_NATS_URL names n1:4223, which is not a NATS service's client port",
				"a: ESCAI_NATS_URL names other:4222, which is not a NATS service's client port",
				"a: ESCAI_NATS_URL leaves out n2, so the client cannot fail over to it",
				"b: ESCAI_NATS_URL is not set (the default is 127.0.0.1, inside the container)",
			},
		},
		"redis: valid": {
			compose: "services:\n  r:\n    image: redis:7.0.15-alpine\n    command: [redis-server, --appendonly, 'yes', --requirepass, '${PW:?set it}']\n    volumes: [r:/data]\n    healthcheck: {test: [CMD-SHELL, redis-cli ping | grep -q PONG]}\n",
			check:   checkRedis,
		},
		"redis: no persistence, literal password, no healthcheck, other version": {
			compose: "services:\n  r:\n    image: redis:7.2.4-alpine\n    command: redis-server --requirepass hunter2\n",
			check:   checkRedis,
			want: []string{
				"r: command lacks --appendonly yes: the audit index would not survive a restart",
				"r: --requirepass is not a required variable such as ${ESCAI_REDIS_PASSWORD:?...}; never write the password in this file",
				"r: no redis-cli ping healthcheck",
				"r: /data is not a named volume",
				`r: image tag "7.2.4-alpine" is not 7.0.x, the Redis the tests run against`,
			},
		},
		"redis: no password": {
			compose: "services:\n  r:\n    image: redis:7.0.15-alpine\n    command: [redis-server, --appendonly, 'yes']\n    volumes: [r:/data]\n    healthcheck: {test: [CMD, redis-cli, ping]}\n",
			check:   checkRedis,
			want:    []string{"r: command lacks --requirepass"},
		},
		"escai: valid, flag and variable agree as numbers": {
			compose: "services:\n  p:\n    image: escai:dev\n    command: [escai, streams, apply, --stream-replicas, '3']\n    environment: [ESCAI_STREAM_REPLICAS=03, ESCAI_SECURITY_PROFILE=testing, OTHER=x]\n",
			check:   checkEscai,
		},
		"escai: unknown flag": {
			compose: "services:\n  i: {image: 'escai:dev', command: [ingest, --bogus, '1']}\n",
			check:   checkEscai,
			want:    []string{"i: ingest: unknown flag: --bogus"},
		},
		"escai: a flag of another binary": {
			compose: "services:\n  i: {image: 'escai:dev', command: ingest --redis-url=redis://r:6379/0}\n",
			check:   checkEscai,
			want:    []string{"i: ingest: unknown flag: --redis-url"},
		},
		"escai: unknown binary, subcommand, group, positional argument": {
			compose: "services:\n  a: {image: 'escai:dev', command: [worker]}\n  b: {image: 'escai:dev', command: [escai, stream, apply]}\n  c: {image: 'escai:dev', command: [escai, streams]}\n  d: {image: 'escai:dev', command: [ingest, extra]}\n  e: {image: 'escai:dev'}\n",
			check:   checkEscai,
			want: []string{
				`a: "worker" is not one of the image's binaries [audit-writer authz escai ingest pii-worker]`,
				"b: escai stream apply: unknown command \"stream\" for \"escai\"\n\nDid you mean this?\n\tstreams\n",
				`c: "escai streams" only groups subcommands; name one`,
				`d: ingest: unknown command "extra" for "ingest"`,
				"e: no command: say which binary runs",
			},
		},
		"escai: unknown variable": {
			compose: "services:\n  i: {image: 'escai:dev', command: [ingest], environment: {ESCAI_NATS_SERVERS: 'nats://n:4222', ESCAI_NATS_CREDS_FILE: /x}}\n",
			check:   checkEscai,
			want: []string{
				"i: ESCAI_NATS_CREDS_FILE is not a variable of pkg/security/config (config.Variables)",
				"i: ESCAI_NATS_SERVERS is not a variable of pkg/security/config (config.Variables)",
				"i: ESCAI_NATS_CREDS_FILE=/x, but no secret is mounted there",
			},
		},
		"escai: flag contradicts its variable, both forms": {
			compose: "services:\n  a: {image: 'escai:dev', command: [escai, streams, apply, --stream-replicas=2], environment: {ESCAI_STREAM_REPLICAS: 3}}\n  b: {image: 'escai:dev', command: [ingest, --log-level, debug], environment: {ESCAI_LOG_LEVEL: info}}\n  c: {image: 'escai:dev', command: [ingest, --workers, '2'], environment: {ESCAI_STAGE_WORKERS: two}}\n",
			check:   checkEscai,
			want: []string{
				"a: --stream-replicas=2 overrides ESCAI_STREAM_REPLICAS=3; set one, or both to the same value",
				"b: --log-level=debug overrides ESCAI_LOG_LEVEL=info; set one, or both to the same value",
				`c: ESCAI_STAGE_WORKERS="two" is not a valid --workers: invalid argument "two" for "--workers" flag: strconv.ParseInt: parsing "two": invalid syntax`,
			},
		},
		"escai: a value and its file, flag or variable": {
			compose: `services:
  a:
    image: escai:dev
    command: [audit-writer, --redis-url, "redis://r:6379/0"]
    secrets: [redis_url]
    environment: {ESCAI_REDIS_URL_FILE: /run/secrets/redis_url}
    depends_on: {r: {condition: service_healthy}}
  b:
    image: escai:dev
    command: [ingest]
    secrets: [{source: key, target: k}]
    environment: {ESCAI_SECRET_KEY: abc, ESCAI_SECRET_KEY_FILE: /run/secrets/k}
  r: {image: redis:7.0.15-alpine}
`,
			check: checkEscai,
			want: []string{
				"a: --redis-url and ESCAI_REDIS_URL_FILE are both set; config.Load refuses that",
				"a: configuration: ESCAI_REDIS_URL: both ESCAI_REDIS_URL and ESCAI_REDIS_URL_FILE are set; fix: set only one of them",
				"b: both ESCAI_SECRET_KEY and ESCAI_SECRET_KEY_FILE are set; config.Load refuses that",
				"b: configuration: ESCAI_SECRET_KEY: both ESCAI_SECRET_KEY and ESCAI_SECRET_KEY_FILE are set; fix: set only one of them",
			},
		},
		// production turns ESCAI_TLS_REQUIRED on, which passes Validate but
		// fails every connection to a NATS without TLS.
		"escai: production profile against NATS without TLS": {
			compose: "services:" + natsNode + "  i: {image: 'escai:dev', command: [ingest], environment: {ESCAI_SECURITY_PROFILE: production}, depends_on: {n1: {condition: service_healthy}}}\n",
			files:   map[string]string{"n1.conf": natsConf},
			check:   checkEscai,
			want: []string{
				"i: configuration: ESCAI_SECRET_KEY: missing in profile production; fix: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key",
				"i: configuration: ESCAI_REDIS_URL: redis:// without a password in profile production; fix: use redis://:PASSWORD@host:6379/0 or rediss://host:6379/0, better through ESCAI_REDIS_URL_FILE",
				"i: TLS is required (profile production), but NATS service n1 has no tls block: every connection would fail",
			},
		},
		"escai: production with TLS switched off fails validation": {
			compose: "services:\n  i: {image: 'escai:dev', command: [ingest], environment: {ESCAI_SECURITY_PROFILE: production, ESCAI_TLS_REQUIRED: 'false'}}\n",
			check:   checkEscai,
			want: []string{
				"i: configuration: ESCAI_SECRET_KEY: missing in profile production; fix: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key",
				"i: configuration: ESCAI_TLS_REQUIRED: false in profile production; fix: set ESCAI_TLS_REQUIRED=true, or use the development or testing profile",
				"i: configuration: ESCAI_REDIS_URL: redis:// without a password in profile production; fix: use redis://:PASSWORD@host:6379/0 or rediss://host:6379/0, better through ESCAI_REDIS_URL_FILE",
			},
		},
		"escai: starts before NATS, Redis reader without Redis, authz not gated": {
			compose: "services:" + natsNode +
				"  a: {image: 'escai:dev', command: [audit-writer], depends_on: [n1]}\n" +
				"  z: {image: 'escai:dev', command: [authz], restart: always, depends_on: {once: {condition: service_completed_successfully}}}\n" +
				"  once: {image: 'escai:dev', command: [escai, streams, apply], depends_on: {n1: {condition: service_healthy}}}\n",
			files: map[string]string{"n1.conf": natsConf},
			check: checkEscai,
			want: []string{
				"a: starts before the NATS cluster is healthy: depend on every NATS service with service_healthy, or on a one-shot that does with service_completed_successfully",
				"a: audit-writer reads Redis but does not depend on a redis service with service_healthy",
				`z: authz is not built yet and exits at start: gate it behind profiles: and restart: "no"`,
			},
		},
		"depends_on: unknown, unhealthy, restarting one-shot, bad condition": {
			compose: `services:
  a:
    image: x:1.0
    depends_on:
      ghost: {condition: service_started}
      b: {condition: service_healthy}
      c: {condition: service_completed_successfully}
      d: {condition: service_ready}
  b: {image: x:1.0}
  c: {image: x:1.0, restart: on-failure}
  d: {image: x:1.0}
`,
			check: checkDependsOn,
			want: []string{
				"a: waits for b to be healthy, but b has no healthcheck",
				"a: waits for c to complete, but c has restart: on-failure",
				`a: unknown condition "service_ready" on d`,
				`a: depends on unknown service "ghost"`,
			},
		},
		"secrets: undeclared, unused, outside the ignored place, not a file": {
			compose: `services:
  a: {image: x:1.0, secrets: [k, missing]}
secrets:
  k: {file: ./k.txt}
  spare: {file: ./deploy/compose/secrets/spare}
  e: {environment: SECRET}
`,
			check: checkSecrets,
			want: []string{
				`a: secret "missing" is not declared under the top-level secrets:`,
				"secret e: declared but no service mounts it",
				"secret e: not a file: want file: ./deploy/compose/secrets/e",
				"secret k: ./k.txt is outside deploy/compose/secrets/, the only git-ignored place",
				"secret spare: declared but no service mounts it",
			},
		},
		"volumes: undeclared, missing bind, anonymous": {
			compose: "services:\n  a: {image: x:1.0, volumes: [data:/data, ./absent.conf:/etc/a.conf:ro, /scratch, {type: volume, source: declared, target: /d}]}\nvolumes: {declared: {}}\n",
			check:   checkVolumes,
			want: []string{
				`a: volume "data" is not declared under the top-level volumes:`,
				"a: bind source ./absent.conf does not exist",
				"a: anonymous volume at /scratch: name it so it survives a recreate",
			},
		},
		"ports: every interface, not allowed": {
			compose: "services:\n  n: {image: x:1.0, ports: ['4222:4222', '127.0.0.1:6222:6222/tcp', {target: 8222, published: '8222', host_ip: 127.0.0.1}]}\n  r: {image: x:1.0, ports: ['6379']}\n",
			check:   checkPorts(map[string][]int{"n": {4222, 8222}}),
			want: []string{
				`n: publishes port 4222 on "", want 127.0.0.1 (no TLS or auth yet)`,
				"n: publishes port 6222, which is not meant to leave the compose network",
				"r: publishes port 6379, which is not meant to leave the compose network",
				`r: publishes port 6379 on "", want 127.0.0.1 (no TLS or auth yet)`,
			},
		},
		"replicas: wrong and missing": {
			compose: "services:\n  ingest: {image: x:1.0}\n  pii-worker: {image: x:1.0, deploy: {replicas: 2}}\n",
			check:   checkReplicas(map[string]int{"ingest": 2, "pii-worker": 2, "audit-writer": 1}),
			want:    []string{"audit-writer: missing", "ingest: 1 replicas, want 2"},
		},
		"merge keys resolve like compose": {
			compose: "x-env: &env\n  ESCAI_NATS_CREDSS: x\nx-svc: &svc\n  image: escai:dev\n  environment:\n    <<: *env\nservices:\n  i:\n    <<: *svc\n    command: [ingest]\n",
			check:   checkEscai,
			want:    []string{"i: ESCAI_NATS_CREDSS is not a variable of pkg/security/config (config.Variables)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for f, body := range tc.files {
				f = filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := parseProject(dir, []byte(tc.compose))
			if err != nil {
				t.Fatal(err)
			}
			got := tc.check(p)
			// nats-server names the file by its absolute path and position;
			// the finding is what matters.
			for i, g := range got {
				if strings.HasPrefix(g, "n1: nats-server rejects ./n1.conf: ") {
					got[i] = "n1: nats-server rejects ./n1.conf: REPLACED"
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestBinariesMatchCmd: the binaries the checks know are exactly the
// directories under cmd/, so a new binary cannot skip the checks.
func TestBinariesMatchCmd(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if want := sortedKeys(binaries); !slices.Equal(dirs, want) {
		t.Errorf("cmd/ holds %v, the checks know %v: add the new binary to binaries and the Dockerfile", dirs, want)
	}
}

// TestNotBuiltStillFails notices when a binary gated in compose as "not
// built yet" starts working, so the gate is not forgotten.
func TestNotBuiltStillFails(t *testing.T) {
	t.Parallel()
	for name := range notBuilt {
		cmd := binaries[name]()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // if it is built now, it must not get far
		cmd.SetContext(ctx)
		cmd.SetArgs([]string{})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "not built yet") {
			t.Errorf("%s no longer says it is not built (%v): drop its profile gate in docker-compose.yml and its entry in notBuilt", name, err)
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	_ = cli.Version // the variable the build stamps with -X
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	bins := sortedKeys(binaries)
	tests := map[string]struct {
		dockerfile string
		want       []string
	}{
		"the Dockerfile": {dockerfile: good},
		"latest base, root user, a binary left out": {
			dockerfile: strings.NewReplacer(
				"golang:1.26-bookworm", "golang:latest",
				"USER nonroot", "USER root",
				" ./cmd/authz", "",
			).Replace(good),
			want: []string{
				`Dockerfile: image "golang:latest" is :latest`,
				`Dockerfile: final stage runs as "root", want USER nonroot`,
				"Dockerfile: go build does not build ./cmd/authz",
			},
		},
		"untagged final stage, no static build": {
			dockerfile: "FROM golang:1.26 AS b\nRUN go build -o /out/ ./cmd/escai\nFROM b AS again\nFROM debian\nCOPY --from=b /out/ /usr/local/bin/\n",
			want: []string{
				`Dockerfile: image "debian" has no tag, which means :latest`,
				`Dockerfile: final stage is "debian", want gcr.io/distroless/static-debian12:nonroot`,
				`Dockerfile: final stage runs as "", want USER nonroot`,
				`Dockerfile: lacks "CGO_ENABLED=0"`,
				`Dockerfile: lacks "-trimpath"`,
				`Dockerfile: lacks "-X github.com/escai-framework/escai/internal/cli.Version="`,
				"Dockerfile: go build does not build ./cmd/audit-writer",
				"Dockerfile: go build does not build ./cmd/authz",
				"Dockerfile: go build does not build ./cmd/ingest",
				"Dockerfile: go build does not build ./cmd/pii-worker",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := dockerfileProblems(tc.dockerfile, bins); !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		text string
		want []string
	}{
		".dockerignore": {text: string(data)},
		"secrets and history let in": {
			text: "# bin/\n/data/\nbin\n",
			want: []string{
				".dockerignore: does not exclude .git",
				".dockerignore: does not exclude deploy/compose/secrets",
				".dockerignore: does not exclude deploy/compose/.env",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := dockerignoreProblems(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestEnvExample: every ${VAR} in docker-compose.yml is documented in
// .env.example, which holds no value for the password.
func TestEnvExample(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	compose, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := envFileNames(string(example))
	for _, f := range interpolationProblems(string(compose), documented) {
		t.Error(f)
	}
	for line := range strings.Lines(string(example)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.Contains(k, "PASSWORD") && v != "" {
			t.Errorf(".env.example sets %s: leave secrets empty in the example", k)
		}
	}
	got := interpolationProblems("a: ${KNOWN}\nb: ${UNKNOWN:-x} ${UNKNOWN}\nc: $${ESCAPED}\n", envFileNames("# ${NOT}=1\nKNOWN=\n"))
	if want := []string{"${UNKNOWN} is not documented in deploy/compose/.env.example"}; !slices.Equal(got, want) {
		t.Errorf("interpolationProblems = %q, want %q", got, want)
	}
}

// TestSecretsStayOut: the secret files are git-ignored and their README
// says how to make them.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	files := map[string][]string{
		"secrets/.gitignore": {"*", "!README.md", "!.gitignore"},
		".gitignore":         {".env"},
		"secrets/README.md":  {"openssl rand -hex 32 > escai_secret_key", `echo "redis://:PASSWORD@redis:6379/0" > redis_url`},
	}
	for name, wants := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Error(err)
			continue
		}
		lines := strings.Split(string(data), "\n")
		for _, want := range wants {
			if !slices.Contains(lines, want) && !(strings.HasSuffix(name, ".md") && strings.Contains(string(data), want)) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}
