// Command ingest; see internal/cli for its flags and ../../README.md for its use.
package main

import (
	"os"

	"github.com/escai-framework/escai/internal/cli"
)

func main() { os.Exit(cli.Execute(cli.NewIngest())) }
