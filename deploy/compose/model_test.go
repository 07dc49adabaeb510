package compose_test

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// project is a parsed compose file and the directory its relative paths
// resolve from.
type project struct {
	dir  string
	file composeFile
	raw  map[string]any // the same document as plain maps, for key checks
}

// composeFile is the part of the Compose specification the checks read.
// Attributes not listed here are checked only by checkKeys.
type composeFile struct {
	Services map[string]*service   `yaml:"services"`
	Volumes  map[string]any        `yaml:"volumes"`
	Secrets  map[string]*secretDef `yaml:"secrets"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       *build       `yaml:"build"`
	Command     stringOrList `yaml:"command"`
	Environment environment  `yaml:"environment"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
	Volumes     []mount      `yaml:"volumes"`
	Secrets     []secretRef  `yaml:"secrets"`
	DependsOn   dependsOn    `yaml:"depends_on"`
	Deploy      struct {
		Replicas *int `yaml:"replicas"`
	} `yaml:"deploy"`
	Ports    []port   `yaml:"ports"`
	Profiles []string `yaml:"profiles"`
	Restart  string   `yaml:"restart"`
}

type secretDef struct {
	File        string `yaml:"file"`
	Environment string `yaml:"environment"`
	External    bool   `yaml:"external"`
}

type healthcheck struct {
	Test    stringOrList `yaml:"test"`
	Disable bool         `yaml:"disable"`
}

// build is the short (context path) or long form of `build:`.
type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *build) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain build
	return n.Decode((*plain)(b))
}

// stringOrList is a command or healthcheck test: a string or a list.
// A string stays one element; split it with words.
type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = stringOrList{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// environment is `environment:` in either form. A nil value is a variable
// passed through from the host, whose value the file does not say.
type environment map[string]*string

func (e *environment) UnmarshalYAML(n *yaml.Node) error {
	out := environment{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			if k, v, ok := strings.Cut(kv, "="); ok {
				out[k] = &v
			} else {
				out[kv] = nil
			}
		}
	default:
		var m map[string]any // resolves merge keys (<<: *anchor)
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				out[k] = nil
				continue
			}
			s := fmt.Sprint(v)
			out[k] = &s
		}
	}
	*e = out
	return nil
}

// value is the variable's value; ok is false when it is unset or comes
// from the host.
func (e environment) value(name string) (string, bool) {
	v, ok := e[name]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// mount is one entry of a service's `volumes:`.
type mount struct {
	Type     string `yaml:"type"` // bind, volume (named or anonymous)
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
}

func (m *mount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		type plain mount
		return n.Decode((*plain)(m))
	}
	parts := strings.Split(n.Value, ":")
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	case 2, 3:
		m.Source, m.Target = parts[0], parts[1]
		if len(parts) == 3 {
			m.ReadOnly = slices.Contains(strings.Split(parts[2], ","), "ro")
		}
	default:
		return fmt.Errorf("volume %q: want SOURCE:TARGET[:MODE]", n.Value)
	}
	switch {
	case m.Source == "":
		m.Type = "volume" // anonymous
	case strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~"):
		m.Type = "bind"
	default:
		m.Type = "volume"
	}
	return nil
}

// port is one entry of a service's `ports:`.
type port struct {
	HostIP    string `yaml:"host_ip"`
	Published string `yaml:"published"`
	Target    int    `yaml:"target"`
}

func (p *port) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		type plain port
		return n.Decode((*plain)(p))
	}
	spec, _, _ := strings.Cut(n.Value, "/") // drop /tcp, /udp
	parts := strings.Split(spec, ":")
	target, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		return fmt.Errorf("port %q: %w", n.Value, err)
	}
	p.Target = target
	switch len(parts) {
	case 1:
		p.Published = "" // an ephemeral host port
	case 2:
		p.Published = parts[0]
	default:
		p.HostIP = strings.Join(parts[:len(parts)-2], ":")
		p.Published = parts[len(parts)-2]
	}
	return nil
}

// secretRef is one entry of a service's `secrets:`.
type secretRef struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

func (s *secretRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Source = n.Value
		return nil
	}
	type plain secretRef
	return n.Decode((*plain)(s))
}

// path is where the secret appears in the container.
func (s secretRef) path() string {
	switch {
	case s.Target == "":
		return "/run/secrets/" + s.Source
	case path.IsAbs(s.Target):
		return s.Target
	default:
		return "/run/secrets/" + s.Target
	}
}

// dependsOn is `depends_on:` in either form: service → condition.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			out[s] = "service_started"
		}
		*d = out
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for s, c := range m {
		if c.Condition == "" {
			c.Condition = "service_started"
		}
		out[s] = c.Condition
	}
	*d = out
	return nil
}

// parseProject parses a compose file whose relative paths resolve from dir.
func parseProject(dir string, data []byte) (*project, error) {
	p := &project{dir: dir}
	if err := yaml.Unmarshal(data, &p.raw); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, &p.file); err != nil {
		return nil, err
	}
	for name, s := range p.file.Services {
		if s == nil {
			p.file.Services[name] = &service{}
		}
	}
	return p, nil
}

// serviceNames returns the service names in order, for stable findings.
func (p *project) serviceNames() []string {
	names := make([]string, 0, len(p.file.Services))
	for n := range p.file.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// hostPath resolves a bind-mount or secret source against the project.
func (p *project) hostPath(src string) string {
	if filepath.IsAbs(src) {
		return src
	}
	return filepath.Join(p.dir, filepath.FromSlash(src))
}

// mountAt returns the mount whose target is target.
func (s *service) mountAt(target string) (mount, bool) {
	for _, m := range s.Volumes {
		if path.Clean(m.Target) == path.Clean(target) {
			return m, true
		}
	}
	return mount{}, false
}

// replicas is deploy.replicas, 1 when unset.
func (s *service) replicas() int {
	if s.Deploy.Replicas == nil {
		return 1
	}
	return *s.Deploy.Replicas
}

// imageRef is an image reference split into its parts.
type imageRef struct{ repo, tag, digest string }

func parseImage(ref string) imageRef {
	var r imageRef
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, r.digest = ref[:i], ref[i+1:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref, r.tag = ref[:i], ref[i+1:]
	}
	r.repo = ref
	return r
}

// kind is what a service runs, judged by its image.
func (s *service) kind() string {
	switch path.Base(parseImage(s.Image).repo) {
	case "nats":
		return "nats"
	case "redis":
		return "redis"
	case "escai":
		return "escai"
	}
	if s.Build != nil {
		return "escai"
	}
	return ""
}

// servicesOfKind lists the services of one kind, in order.
func (p *project) servicesOfKind(kind string) []string {
	var out []string
	for _, n := range p.serviceNames() {
		if p.file.Services[n].kind() == kind {
			out = append(out, n)
		}
	}
	return out
}

// words is a command as an argument list: a list as is, a string split on
// blanks (enough for the commands these checks read).
func words(cmd stringOrList) []string {
	if len(cmd) == 1 {
		return strings.Fields(cmd[0])
	}
	return cmd
}

// argAfter returns the argument after the first of names in args, or the
// value of a --name=value form.
func argAfter(args []string, names ...string) (string, bool) {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1], true
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// readFile reads a file of the project for a check, or reports why not.
func (p *project) readFile(rel string) (string, error) {
	b, err := os.ReadFile(p.hostPath(rel))
	return string(b), err
}
