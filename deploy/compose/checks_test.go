package compose_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/cli"
	"github.com/escai-framework/escai/pkg/security/config"
)

// A check reads a project and returns its findings, one line each,
// "service: problem", in a stable order; none means it passed.
type check func(p *project) []string

// binaries are the commands of the image, by the name the Dockerfile gives
// them (the directory under cmd/).
var binaries = map[string]func() *cobra.Command{
	"ingest":       cli.NewIngest,
	"pii-worker":   cli.NewPIIWorker,
	"audit-writer": cli.NewAuditWriter,
	"authz":        cli.NewAuthz,
	"escai":        cli.NewEscai,
}

// notBuilt are binaries that fail at start by design until their issue
// lands; TestNotBuiltStillFails notices when one starts working.
var notBuilt = map[string]bool{"authz": true}

// serviceKeys are the service attributes of the Compose specification
// (compose-spec schema, 2025); anything else is a typo Compose may ignore.
var serviceKeys = setOf(
	"annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop",
	"cgroup", "cgroup_parent", "command", "configs", "container_name",
	"cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
	"cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec",
	"depends_on", "deploy", "develop", "device_cgroup_rules", "devices", "dns",
	"dns_opt", "dns_search", "domainname", "driver_opts", "entrypoint",
	"env_file", "environment", "expose", "extends", "external_links",
	"extra_hosts", "gpus", "group_add", "healthcheck", "hostname", "image",
	"init", "ipc", "isolation", "label_file", "labels", "links", "logging",
	"mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
	"memswap_limit", "models", "network_mode", "networks", "oom_kill_disable",
	"oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start",
	"pre_stop", "privileged", "profiles", "provider", "pull_policy", "read_only",
	"restart", "runtime", "scale", "secrets", "security_opt", "shm_size",
	"stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls",
	"tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts",
	"volumes", "volumes_from", "working_dir",
)

var topKeys = setOf("version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models")

func setOf(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, k := range s {
		m[k] = true
	}
	return m
}

// checkKeys reports attributes that are not in the Compose specification.
func checkKeys(p *project) []string {
	var out []string
	for k := range p.raw {
		if !topKeys[k] && !strings.HasPrefix(k, "x-") {
			out = append(out, fmt.Sprintf("top level: unknown key %q", k))
		}
	}
	services, _ := p.raw["services"].(map[string]any)
	for name, v := range services {
		s, _ := v.(map[string]any)
		for k := range s {
			if !serviceKeys[k] && !strings.HasPrefix(k, "x-") {
				out = append(out, fmt.Sprintf("%s: unknown key %q", name, k))
			}
		}
	}
	slices.Sort(out)
	return out
}

// versionTag is a tag that names a release (2.15.3-alpine, 7.0.15), not a
// moving line (alpine, 7-alpine, stable).
var versionTag = regexp.MustCompile(`^v?\d+\.\d+`)

// imageProblem says what is wrong with a reference to someone else's image.
func imageProblem(ref string, versioned bool) string {
	r := parseImage(ref)
	switch {
	case r.digest != "":
		return ""
	case r.tag == "":
		return fmt.Sprintf("image %q has no tag, which means :latest", ref)
	case r.tag == "latest":
		return fmt.Sprintf("image %q is :latest", ref)
	case versioned && !versionTag.MatchString(r.tag):
		return fmt.Sprintf("image %q: tag %q names no release; pin one such as 2.15.3-alpine", ref, r.tag)
	}
	return ""
}

// checkImages: every image tagged and not latest; pulled images pinned to
// a release; built images named and built from a directory with its
// Dockerfile.
func checkImages(p *project) []string {
	var out []string
	for _, name := range p.serviceNames() {
		s := p.file.Services[name]
		if s.Image == "" {
			out = append(out, name+": no image: tag (a built image needs one too, e.g. escai:dev)")
			continue
		}
		if problem := imageProblem(s.Image, s.Build == nil); problem != "" {
			out = append(out, name+": "+problem)
		}
		if s.Build != nil {
			dockerfile := s.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			f := filepath.Join(p.hostPath(s.Build.Context), dockerfile)
			if _, err := os.Stat(f); err != nil {
				out = append(out, fmt.Sprintf("%s: build context %q has no %s", name, s.Build.Context, dockerfile))
			}
		}
	}
	return out
}

// checkNATS: each NATS node runs a config that nats-server itself accepts,
// mounted read-only with what it includes, that forms one JetStream cluster
// of exactly the compose NATS services, stores on a named volume, and is
// probed by a healthcheck that only passes once the node can serve
// JetStream requests.
func checkNATS(p *project) []string {
	var out []string
	nodes := p.servicesOfKind("nats")
	clusters := map[string][]string{}
	for _, name := range nodes {
		s := p.file.Services[name]
		bad := func(format string, a ...any) { out = append(out, name+": "+fmt.Sprintf(format, a...)) }

		opts, problems := natsConfig(p, s)
		for _, pr := range problems {
			bad("%s", pr)
		}
		if opts == nil {
			continue
		}
		if opts.ServerName != name {
			bad("server_name is %q, want the service name %q (unique per node, and what routes resolve)", opts.ServerName, name)
		}
		if !opts.JetStream {
			bad("jetstream is not enabled")
		}
		if opts.JetStreamMaxMemory <= 0 || opts.JetStreamMaxStore <= 0 {
			bad("jetstream sets no max_memory_store or max_file_store")
		}
		if opts.StoreDir == "" || !onNamedVolume(s, opts.StoreDir) {
			bad("jetstream store_dir %q is not on a named volume: the stream data would die with the container", opts.StoreDir)
		}
		clusters[opts.Cluster.Name] = append(clusters[opts.Cluster.Name], name)
		var routes, want []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Host)
		}
		for _, n := range nodes {
			want = append(want, net.JoinHostPort(n, strconv.Itoa(opts.Cluster.Port)))
		}
		slices.Sort(routes)
		if opts.Cluster.Name == "" || opts.Cluster.Port <= 0 || !slices.Equal(routes, want) {
			bad("cluster %q on port %d routes to %v, want a named cluster routing to %v", opts.Cluster.Name, opts.Cluster.Port, routes, want)
		}
		// TLS and the auth callout land with their issues, which change this
		// check together with the services' URLs and profile; until then a
		// config claiming them would not match what the services speak.
		if opts.TLSConfig != nil || opts.Cluster.TLSConfig != nil || opts.AuthCallout != nil {
			bad("config sets tls or auth_callout, but the services still connect with nats:// and the testing profile")
		}
		out = append(out, natsHealthcheckProblems(name, s, opts)...)
	}
	if len(clusters) > 1 {
		out = append(out, fmt.Sprintf("nats: the nodes form %d clusters, want one: %v", len(clusters), clusters))
	}
	return out
}

// natsConfig parses the config a NATS service runs, as nats-server would.
func natsConfig(p *project, s *service) (*server.Options, []string) {
	target, ok := argAfter(words(s.Command), "-c", "--config")
	if !ok {
		return nil, []string{"command does not pass -c <config file>"}
	}
	m, ok := s.mountAt(target)
	if !ok || m.Type != "bind" {
		return nil, []string{fmt.Sprintf("config %s is not bind-mounted", target)}
	}
	var problems []string
	if !m.ReadOnly {
		problems = append(problems, fmt.Sprintf("config %s is mounted read-write; add :ro", target))
	}
	host := p.hostPath(m.Source)
	text, err := p.readFile(m.Source)
	if err != nil {
		return nil, append(problems, fmt.Sprintf("config %s: %v", m.Source, err))
	}
	// nats-server resolves includes next to the file; the container must
	// have them next to the mounted target too.
	for _, inc := range includes(text) {
		want := path.Join(path.Dir(target), inc)
		im, ok := s.mountAt(want)
		if !ok || filepath.Clean(p.hostPath(im.Source)) != filepath.Join(filepath.Dir(host), filepath.FromSlash(inc)) {
			problems = append(problems, fmt.Sprintf("%s includes %s, which is not mounted at %s", m.Source, inc, want))
		}
	}
	opts, err := server.ProcessConfigFile(host)
	if err != nil {
		return nil, append(problems, fmt.Sprintf("nats-server rejects %s: %v", m.Source, err))
	}
	return opts, problems
}

var includeDirective = regexp.MustCompile(`(?m)^\s*include\s+["']?([^"'\s;]+)`)

func includes(conf string) []string {
	var out []string
	for _, m := range includeDirective.FindAllStringSubmatch(conf, -1) {
		out = append(out, m[1])
	}
	return out
}

// onNamedVolume reports whether dir lies on a named volume of s.
func onNamedVolume(s *service, dir string) bool {
	for _, m := range s.Volumes {
		if m.Type == "volume" && m.Source != "" && (dir == m.Target || strings.HasPrefix(dir, strings.TrimSuffix(m.Target, "/")+"/")) {
			return true
		}
	}
	return false
}

// natsHealthcheckProblems: the probe is wget on the node's monitor port,
// which only the -alpine image has, and asks the full /healthz.
func natsHealthcheckProblems(name string, s *service, opts *server.Options) []string {
	if s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) == 0 {
		return []string{name + ": no healthcheck, so nothing can wait for the node"}
	}
	test := []string(s.Healthcheck.Test)
	if test[0] == "CMD-SHELL" || test[0] == "CMD" {
		test = words(test[1:])
	}
	var out []string
	if slices.Contains(test, "wget") && !strings.Contains(parseImage(s.Image).tag, "alpine") {
		out = append(out, name+": the healthcheck runs wget, which only the -alpine nats image has (the plain one is distroless)")
	}
	var probe *url.URL
	for _, a := range test {
		if u, err := url.Parse(a); err == nil && strings.HasPrefix(u.Scheme, "http") {
			probe = u
		}
	}
	switch {
	case probe == nil:
		out = append(out, fmt.Sprintf("%s: the healthcheck %q fetches no URL", name, s.Healthcheck.Test))
	case probe.Port() != strconv.Itoa(opts.HTTPPort) || probe.Path != "/healthz" || (probe.Hostname() != "localhost" && probe.Hostname() != "127.0.0.1"):
		out = append(out, fmt.Sprintf("%s: the healthcheck fetches %s, want http://localhost:%d/healthz", name, probe, opts.HTTPPort))
	case probe.Query().Has("js-enabled-only") || probe.Query().Has("js-server-only"):
		// Those pass before the cluster has a JetStream meta leader, so
		// whatever waits for service_healthy (provision) would race the
		// election and fail to create R3 streams.
		out = append(out, fmt.Sprintf("%s: the healthcheck fetches %s, which passes before the JetStream meta leader is elected; use the full /healthz", name, probe))
	}
	return out
}

// checkRedis: persistence on, a password from the environment (never
// written in the file), a healthcheck, and data on a named volume.
func checkRedis(p *project) []string {
	var out []string
	for _, name := range p.servicesOfKind("redis") {
		s := p.file.Services[name]
		args := words(s.Command)
		if v, _ := argAfter(args, "--appendonly"); v != "yes" {
			out = append(out, name+": command lacks --appendonly yes: the audit index would not survive a restart")
		}
		switch pw, ok := argAfter(args, "--requirepass"); {
		case !ok || pw == "":
			out = append(out, name+": command lacks --requirepass")
		case !strings.HasPrefix(pw, "${") || !strings.Contains(pw, ":?"):
			out = append(out, name+": --requirepass is not a required variable such as ${ESCAI_REDIS_PASSWORD:?...}; never write the password in this file")
		}
		if t := strings.Join(s.Healthcheck.testOrNil(), " "); !strings.Contains(t, "redis-cli") || !strings.Contains(t, "ping") {
			out = append(out, name+": no redis-cli ping healthcheck")
		}
		if !onNamedVolume(s, "/data") {
			out = append(out, name+": /data is not a named volume")
		}
		if tag := parseImage(s.Image).tag; !strings.HasPrefix(tag, "7.0") {
			out = append(out, fmt.Sprintf("%s: image tag %q is not 7.0.x, the Redis the tests run against", name, tag))
		}
	}
	return out
}

func (h *healthcheck) testOrNil() []string {
	if h == nil || h.Disable {
		return nil
	}
	return h.Test
}

// secretKeyPlaceholder stands in for the key file: 32 bytes, not weak.
var secretKeyPlaceholder = func() string {
	sum := sha256.Sum256([]byte("deploy/compose test placeholder key"))
	return hex.EncodeToString(sum[:])
}()

// filePlaceholders stand in for the secret files, which are never
// committed, so that the configuration check can run.
var filePlaceholders = map[string]string{
	"ESCAI_SECRET_KEY": secretKeyPlaceholder,
	"ESCAI_REDIS_URL":  "redis://:compose-test@redis:6379/0",
}

// checkEscai: each escai service runs one of the binaries with flags that
// binary has, ESCAI_* variables that exist, no flag contradicting its
// variable, *_FILE variables pointing at mounted secrets, and a
// configuration that config.Load and Validate accept (so a profile the
// setup cannot satisfy is caught here, not at `up`). It also waits for what
// it needs: the NATS cluster, and Redis when the binary reads Redis.
func checkEscai(p *project) []string {
	known := map[string]config.Variable{}
	for _, v := range config.Variables() {
		known[v.Name] = v
	}
	var out []string
	for _, name := range p.servicesOfKind("escai") {
		s := p.file.Services[name]
		bad := func(format string, a ...any) { out = append(out, name+": "+fmt.Sprintf(format, a...)) }

		for _, k := range sortedKeys(s.Environment) {
			if !strings.HasPrefix(k, "ESCAI_") {
				continue
			}
			base, isFile := strings.CutSuffix(k, "_FILE")
			if v, ok := known[base]; isFile && ok && v.HasFile {
				if s.Environment[base] != nil {
					bad("both %s and %s are set; config.Load refuses that", base, k)
				}
				continue
			}
			if _, ok := known[k]; !ok {
				bad("%s is not a variable of pkg/security/config (config.Variables)", k)
			}
		}

		args := words(s.Command)
		if len(args) == 0 {
			bad("no command: say which binary runs")
			continue
		}
		cmd, err := resolve(args)
		if err != nil {
			bad("%v", err)
			continue
		}
		out = append(out, flagEnvProblems(name, args, cmd, s.Environment)...)
		cfg, problems := configProblems(name, s, cmd)
		out = append(out, problems...)
		if cfg != nil && cfg.TLSRequired {
			for _, n := range p.servicesOfKind("nats") {
				if opts, _ := natsConfig(p, p.file.Services[n]); opts != nil && opts.TLSConfig == nil {
					bad("TLS is required (profile %s), but NATS service %s has no tls block: every connection would fail", cfg.Profile, n)
				}
			}
		}

		if !p.waitsForNATS(name, map[string]bool{}) {
			bad("starts before the NATS cluster is healthy: depend on every NATS service with service_healthy, or on a one-shot that does with service_completed_successfully")
		}
		if cmd.Flags().Lookup("redis-url") != nil {
			redisHealthy := false
			for dep, cond := range s.DependsOn {
				redisHealthy = redisHealthy || (p.file.Services[dep] != nil && p.file.Services[dep].kind() == "redis" && cond == "service_healthy")
			}
			if !redisHealthy {
				bad("%s reads Redis but does not depend on a redis service with service_healthy", args[0])
			}
		}
		if notBuilt[args[0]] && (len(s.Profiles) == 0 || (s.Restart != "" && s.Restart != "no")) {
			bad("%s is not built yet and exits at start: gate it behind profiles: and restart: \"no\"", args[0])
		}
	}
	return out
}

// resolve finds the cobra command a service command line runs, with its
// flags parsed exactly as the binary would parse them.
func resolve(args []string) (*cobra.Command, error) {
	newCmd, ok := binaries[args[0]]
	if !ok {
		return nil, fmt.Errorf("%q is not one of the image's binaries %v", args[0], sortedKeys(binaries))
	}
	root := newCmd()
	cmd, rest, err := root.Find(args[1:])
	if err != nil {
		return nil, fmt.Errorf("%s: %v", strings.Join(args, " "), err)
	}
	if !cmd.Runnable() {
		return nil, fmt.Errorf("%q only groups subcommands; name one", cmd.CommandPath())
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return nil, fmt.Errorf("%s: %v", cmd.CommandPath(), err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return nil, fmt.Errorf("%s: %v", cmd.CommandPath(), err)
	}
	return cmd, nil
}

// flagEnvProblems: a flag replaces its variable, so the two set to
// different values is a lie in the file, and a flag with the variable's
// _FILE form is refused by config.Load.
func flagEnvProblems(name string, args []string, cmd *cobra.Command, env environment) []string {
	vars := cli.FlagVariables(cmd.Flags())
	var out []string
	for _, flag := range sortedKeys(vars) {
		f, v := cmd.Flags().Lookup(flag), vars[flag]
		if !f.Changed {
			continue
		}
		if env[v+"_FILE"] != nil {
			out = append(out, fmt.Sprintf("%s: --%s and %s_FILE are both set; config.Load refuses that", name, f.Name, v))
		}
		envVal, ok := env.value(v)
		if !ok {
			continue
		}
		// Compare as the flag would hold the variable's value, so 3 and 03
		// agree.
		fresh, err := resolve(args)
		if err == nil {
			err = fresh.Flags().Set(f.Name, envVal)
		}
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %s=%q is not a valid --%s: %v", name, v, envVal, f.Name, err))
		case fresh.Flags().Lookup(f.Name).Value.String() != f.Value.String():
			out = append(out, fmt.Sprintf("%s: --%s=%s overrides %s=%s; set one, or both to the same value", name, f.Name, f.Value, v, envVal))
		}
	}
	return out
}

// configProblems loads the service's configuration as the binary would,
// flags over variables, with placeholders for the secret files, and
// validates it. *_FILE paths must be secrets mounted in the service. It
// returns the configuration when it loaded.
func configProblems(name string, s *service, cmd *cobra.Command) (*config.Config, []string) {
	var out []string
	mounted := map[string]bool{}
	for _, ref := range s.Secrets {
		mounted[ref.path()] = true
	}
	placeholders := map[string]string{}
	for _, k := range sortedKeys(s.Environment) {
		base, isFile := strings.CutSuffix(k, "_FILE")
		p, ok := s.Environment.value(k)
		if !isFile || !ok {
			continue
		}
		if !mounted[p] {
			out = append(out, fmt.Sprintf("%s: %s=%s, but no secret is mounted there", name, k, p))
		}
		if v, ok := filePlaceholders[base]; ok {
			placeholders[p] = v
		}
	}
	vars := cli.FlagVariables(cmd.Flags())
	lookup := func(v string) (string, bool) {
		for flag, fv := range vars {
			if f := cmd.Flags().Lookup(flag); fv == v && f.Changed {
				return f.Value.String(), true
			}
		}
		return s.Environment.value(v)
	}
	files := config.FileReaderFunc(func(p string) ([]byte, fs.FileMode, error) {
		v, ok := placeholders[p]
		if !ok {
			return nil, 0, fmt.Errorf("the test has no placeholder for %s", p)
		}
		return []byte(v + "\n"), 0o400, nil
	})
	c, err := config.Load(lookup, files)
	if err == nil {
		err = c.Validate()
	}
	for _, e := range unjoin(err) {
		out = append(out, fmt.Sprintf("%s: configuration: %v", name, e))
	}
	return c, out
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// waitsForNATS reports whether service name starts only once every NATS
// service is healthy, directly or through a one-shot that did.
func (p *project) waitsForNATS(name string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	s := p.file.Services[name]
	direct := true
	for _, n := range p.servicesOfKind("nats") {
		direct = direct && s.DependsOn[n] == "service_healthy"
	}
	if direct {
		return true
	}
	for dep, cond := range s.DependsOn {
		if cond == "service_completed_successfully" && p.file.Services[dep] != nil && p.waitsForNATS(dep, seen) {
			return true
		}
	}
	return false
}

// checkNATSURLs: every ESCAI_NATS_URL names only compose NATS services on
// their client port, and all of them, so a client fails over.
func checkNATSURLs(p *project) []string {
	ports := map[string]int{}
	for _, n := range p.servicesOfKind("nats") {
		if opts, _ := natsConfig(p, p.file.Services[n]); opts != nil {
			ports[n] = opts.Port
		}
	}
	var out []string
	for _, name := range p.servicesOfKind("escai") {
		raw, ok := p.file.Services[name].Environment.value("ESCAI_NATS_URL")
		if !ok {
			out = append(out, name+": ESCAI_NATS_URL is not set (the default is 127.0.0.1, inside the container)")
			continue
		}
		seen := map[string]bool{}
		for _, part := range strings.Split(raw, ",") {
			u, err := url.Parse(strings.TrimSpace(part))
			if err != nil {
				out = append(out, fmt.Sprintf("%s: ESCAI_NATS_URL: %v", name, err))
				continue
			}
			want, isNode := ports[u.Hostname()]
			if !isNode || u.Port() != strconv.Itoa(want) {
				out = append(out, fmt.Sprintf("%s: ESCAI_NATS_URL names %s, which is not a NATS service's client port", name, u.Host))
			}
			seen[u.Hostname()] = true
		}
		for _, n := range sortedKeys(ports) {
			if !seen[n] {
				out = append(out, fmt.Sprintf("%s: ESCAI_NATS_URL leaves out %s, so the client cannot fail over to it", name, n))
			}
		}
	}
	return out
}

// checkDependsOn: dependencies exist and their conditions can be met:
// service_healthy needs a healthcheck, service_completed_successfully a
// one-shot that is not restarted.
func checkDependsOn(p *project) []string {
	var out []string
	for _, name := range p.serviceNames() {
		s := p.file.Services[name]
		for _, dep := range sortedKeys(s.DependsOn) {
			cond := s.DependsOn[dep]
			target, ok := p.file.Services[dep]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: depends on unknown service %q", name, dep))
			case cond == "service_healthy" && target.Healthcheck.testOrNil() == nil:
				out = append(out, fmt.Sprintf("%s: waits for %s to be healthy, but %s has no healthcheck", name, dep, dep))
			case cond == "service_completed_successfully" && target.Restart != "" && target.Restart != "no":
				out = append(out, fmt.Sprintf("%s: waits for %s to complete, but %s has restart: %s", name, dep, dep, target.Restart))
			case cond != "service_started" && cond != "service_healthy" && cond != "service_completed_successfully":
				out = append(out, fmt.Sprintf("%s: unknown condition %q on %s", name, cond, dep))
			}
		}
	}
	return out
}

// checkSecrets: every secret a service mounts is declared, every declared
// one is used, and each is a file under deploy/compose/secrets/, the one
// git-ignored place.
func checkSecrets(p *project) []string {
	var out []string
	used := map[string]bool{}
	for _, name := range p.serviceNames() {
		for _, ref := range p.file.Services[name].Secrets {
			used[ref.Source] = true
			if _, ok := p.file.Secrets[ref.Source]; !ok {
				out = append(out, fmt.Sprintf("%s: secret %q is not declared under the top-level secrets:", name, ref.Source))
			}
		}
	}
	for _, name := range sortedKeys(p.file.Secrets) {
		def := p.file.Secrets[name]
		if !used[name] {
			out = append(out, fmt.Sprintf("secret %s: declared but no service mounts it", name))
		}
		if def == nil || def.File == "" {
			out = append(out, fmt.Sprintf("secret %s: not a file: want file: ./deploy/compose/secrets/%s", name, name))
			continue
		}
		if path.Dir(path.Clean(def.File)) != "deploy/compose/secrets" {
			out = append(out, fmt.Sprintf("secret %s: %s is outside deploy/compose/secrets/, the only git-ignored place", name, def.File))
		}
	}
	return out
}

// checkVolumes: named volumes are declared, bind sources exist.
func checkVolumes(p *project) []string {
	var out []string
	for _, name := range p.serviceNames() {
		for _, m := range p.file.Services[name].Volumes {
			switch {
			case m.Type == "volume" && m.Source == "":
				out = append(out, fmt.Sprintf("%s: anonymous volume at %s: name it so it survives a recreate", name, m.Target))
			case m.Type == "volume":
				if _, ok := p.file.Volumes[m.Source]; !ok {
					out = append(out, fmt.Sprintf("%s: volume %q is not declared under the top-level volumes:", name, m.Source))
				}
			case m.Type == "bind":
				if _, err := os.Stat(p.hostPath(m.Source)); err != nil {
					out = append(out, fmt.Sprintf("%s: bind source %s does not exist", name, m.Source))
				}
			}
		}
	}
	return out
}

// checkPorts returns a check that every published port is in allowed
// (service → container ports) and bound to the host's loopback: nothing
// here has TLS or authentication yet.
func checkPorts(allowed map[string][]int) check {
	return func(p *project) []string {
		var out []string
		for _, name := range p.serviceNames() {
			for _, pt := range p.file.Services[name].Ports {
				if !slices.Contains(allowed[name], pt.Target) {
					out = append(out, fmt.Sprintf("%s: publishes port %d, which is not meant to leave the compose network", name, pt.Target))
				}
				if pt.HostIP != "127.0.0.1" {
					out = append(out, fmt.Sprintf("%s: publishes port %d on %q, want 127.0.0.1 (no TLS or auth yet)", name, pt.Target, pt.HostIP))
				}
			}
		}
		return out
	}
}

// checkReplicas returns a check that each named service runs want
// replicas.
func checkReplicas(want map[string]int) check {
	return func(p *project) []string {
		var out []string
		for _, name := range sortedKeys(want) {
			s, ok := p.file.Services[name]
			if !ok {
				out = append(out, fmt.Sprintf("%s: missing", name))
				continue
			}
			if got := s.replicas(); got != want[name] {
				out = append(out, fmt.Sprintf("%s: %d replicas, want %d", name, got, want[name]))
			}
		}
		return out
	}
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// interpolationProblems: every ${VAR} the compose file uses is documented
// in the example env file (documented: the names it sets).
func interpolationProblems(compose string, documented map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range interpolation.FindAllStringSubmatch(strings.ReplaceAll(compose, "$$", ""), -1) {
		if v := m[1]; !documented[v] && !seen[v] {
			seen[v] = true
			out = append(out, fmt.Sprintf("${%s} is not documented in deploy/compose/.env.example", v))
		}
	}
	return out
}

// envFileNames are the names an env file sets.
func envFileNames(text string) map[string]bool {
	out := map[string]bool{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[strings.TrimSpace(k)] = true
		}
	}
	return out
}

// dockerfileProblems: pinned bases, a distroless nonroot final stage, and
// one static, stamped build of every binary.
func dockerfileProblems(text string, bins []string) []string {
	var out []string
	logical := strings.ReplaceAll(text, "\\\n", " ")
	var stages []string
	var final, user string
	for line := range strings.Lines(logical) {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			var ref, alias string
			for i, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					ref = f
					if i+3 < len(fields) && strings.EqualFold(fields[i+2], "AS") {
						alias = fields[i+3]
					}
					break
				}
			}
			if !slices.Contains(stages, ref) { // FROM an earlier stage needs no pin
				if problem := imageProblem(ref, false); problem != "" {
					out = append(out, "Dockerfile: "+problem)
				}
			}
			if alias != "" {
				stages = append(stages, alias)
			}
			final, user = ref, ""
		case "USER":
			if len(fields) > 1 {
				user = fields[1]
			}
		}
	}
	if r := parseImage(final); !strings.HasPrefix(r.repo, "gcr.io/distroless/static") || !strings.HasPrefix(r.tag, "nonroot") {
		out = append(out, fmt.Sprintf("Dockerfile: final stage is %q, want gcr.io/distroless/static-debian12:nonroot", final))
	}
	if u, _, _ := strings.Cut(user, ":"); u != "nonroot" && u != "65532" {
		out = append(out, fmt.Sprintf("Dockerfile: final stage runs as %q, want USER nonroot", user))
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X github.com/escai-framework/escai/internal/cli.Version=", "/usr/local/bin/"} {
		if !strings.Contains(logical, want) {
			out = append(out, fmt.Sprintf("Dockerfile: lacks %q", want))
		}
	}
	for _, b := range bins {
		if !regexp.MustCompile(`go build[^\n]*\./cmd/` + regexp.QuoteMeta(b) + `(\s|$)`).MatchString(logical) {
			out = append(out, fmt.Sprintf("Dockerfile: go build does not build ./cmd/%s", b))
		}
	}
	return out
}

// dockerignoreProblems: what must never enter the build context.
func dockerignoreProblems(text string) []string {
	have := map[string]bool{}
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			have[strings.Trim(line, "/")] = true
		}
	}
	var out []string
	for _, want := range []string{".git", "data", "bin", "deploy/compose/secrets", "deploy/compose/.env"} {
		if !have[want] {
			out = append(out, fmt.Sprintf(".dockerignore: does not exclude %s", want))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
