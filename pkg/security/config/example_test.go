package config_test

import (
	"errors"
	"fmt"

	"github.com/escai-framework/escai/pkg/security/config"
)

// A main loads the environment, applies flags by setting fields, then
// validates before opening any connection. Every problem is reported at once.
func ExampleLoad() {
	env := map[string]string{
		"ESCAI_SECURITY_PROFILE": "production",
		"ESCAI_REDIS_URL":        "redis://:hunter2@redis:6379/0",
		"ESCAI_STAGE_BATCH":      "lots",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	cfg, err := config.Load(lookup, config.OSFiles{}) // LoadFromOS() in a real main
	if err != nil {
		fmt.Println(err)
	}
	cfg.StageBatch = 128 // a --batch flag
	cfg.PIIAutoMask = false

	err = cfg.Validate()
	var ve *config.VarError
	if errors.As(err, &ve) {
		fmt.Println("first problem is with", ve.Var)
	}
	fmt.Println(err)
	fmt.Println(cfg.Redacted()["ESCAI_REDIS_URL"])
	// Output:
	// ESCAI_STAGE_BATCH: "lots" is not a whole number; fix: use a whole number from 1 to 4096
	// first problem is with ESCAI_SECRET_KEY
	// ESCAI_SECRET_KEY: missing in profile production; fix: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key
	// ESCAI_PII_AUTO_MASK: false in profile production; detect-and-report only is allowed in development and testing alone; fix: set ESCAI_PII_AUTO_MASK=true
	// redis://:xxxxx@redis:6379/0
}
