package cli

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/escai-framework/escai/pkg/security/config"
)

// configFlags binds flags to the ESCAI_* variables they override. A flag
// that is set replaces its variable before config.Load reads the
// environment, so a flag gets exactly the parsing and checks of its
// variable and --profile chooses the defaults as ESCAI_SECURITY_PROFILE
// would.
type configFlags struct {
	fs  *pflag.FlagSet
	env map[string]string // flag name → variable
}

func newConfigFlags(fs *pflag.FlagSet) *configFlags {
	return &configFlags{fs: fs, env: map[string]string{}}
}

func (cf *configFlags) str(name, envVar, usage string) {
	cf.fs.String(name, "", fmt.Sprintf("%s (overrides %s)", usage, envVar))
	cf.bind(name, envVar)
}

func (cf *configFlags) integer(name, envVar, usage string) {
	cf.fs.Int(name, 0, fmt.Sprintf("%s (overrides %s)", usage, envVar))
	cf.bind(name, envVar)
}

// envAnnotation marks a flag with the variable it overrides, so the mapping
// travels with the command (FlagVariables).
const envAnnotation = "escai_env"

func (cf *configFlags) bind(name, envVar string) {
	cf.env[name] = envVar
	_ = cf.fs.SetAnnotation(name, envAnnotation, []string{envVar})
}

// common flags every binary accepts.
func (cf *configFlags) common() {
	cf.str("profile", "ESCAI_SECURITY_PROFILE", "security profile: development, testing, production, high_security")
	cf.str("nats-url", "ESCAI_NATS_URL", "NATS server URL(s)")
	cf.str("nats-creds", "ESCAI_NATS_CREDS", "NATS credentials file")
	cf.str("http-addr", "ESCAI_HTTP_ADDR", "admin listener for /metrics, /livez, /readyz")
	cf.str("log-level", "ESCAI_LOG_LEVEL", "log level: debug, info, warn, error")
	cf.integer("stream-replicas", "ESCAI_STREAM_REPLICAS", "JetStream replicas of every stream")
}

// stage flags of the services that run the stage runtime.
func (cf *configFlags) stage() {
	cf.integer("batch", "ESCAI_STAGE_BATCH", "messages settled per batch")
	cf.integer("workers", "ESCAI_STAGE_WORKERS", "concurrent lanes per stage")
	cf.integer("max-ack-pending", "ESCAI_MAX_ACK_PENDING", "unacknowledged messages per consumer")
	cf.integer("max-event-bytes", "ESCAI_MAX_EVENT_BYTES", "largest accepted event")
	cf.integer("max-event-depth", "ESCAI_MAX_EVENT_DEPTH", "deepest accepted JSON nesting")
}

// redis flag; a URL with a password belongs in ESCAI_REDIS_URL_FILE, since
// flags show up in process listings.
func (cf *configFlags) redis() {
	cf.str("redis-url", "ESCAI_REDIS_URL", "Redis URL (put a password in ESCAI_REDIS_URL_FILE, not on the command line)")
}

func (cf *configFlags) audit() {
	cf.integer("audit-partitions", "ESCAI_AUDIT_PARTITIONS", "audit partitions (hash chains)")
	cf.integer("audit-retention-days", "ESCAI_AUDIT_RETENTION_DAYS", "audit retention in days")
}

func (cf *configFlags) dataDir() {
	cf.str("data-dir", "ESCAI_DATA_DIR", "local state directory")
}

// lookup is os.LookupEnv with the set flags laid over it.
func (cf *configFlags) lookup(name string) (string, bool) {
	for flag, envVar := range cf.env {
		if envVar == name && cf.fs.Changed(flag) {
			return cf.fs.Lookup(flag).Value.String(), true
		}
	}
	return os.LookupEnv(name)
}

// load reads the configuration and validates it, reporting every problem
// at once, before anything connects.
func (cf *configFlags) load() (*config.Config, error) {
	c, err := config.Load(cf.lookup, config.OSFiles{})
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	return c, nil
}

// FlagVariables maps every configuration flag of a flag set to the
// variable it overrides; the compose test checks compose files with it.
func FlagVariables(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if v := f.Annotations[envAnnotation]; len(v) == 1 {
			out[f.Name] = v[0]
		}
	})
	return out
}
