package grammar

// NamedResolver looks up a named transformation (t_<name>) and returns its
// transformation string. The origin implements it over its store.
type NamedResolver interface {
	ResolveNamed(name string) (string, bool, error)
}

// maxNamedDepth bounds nested named transformations (and so cycles), and
// MaxComponents the length of an expanded chain (names that each hold
// several others would otherwise multiply at every level).
const (
	maxNamedDepth = 5
	MaxComponents = 256
)

// Expand replaces every t_ reference with the components of the named
// transformation; other parameters of the same component follow them. The
// result contains no t_.
func (ch Chain) Expand(r NamedResolver) (Chain, error) {
	return ch.expand(r, 0)
}

// HasNamed reports whether the chain references a named transformation.
func (ch Chain) HasNamed() bool {
	for _, c := range ch {
		if len(c.Named) > 0 {
			return true
		}
	}
	return false
}

func (ch Chain) expand(r NamedResolver, depth int) (Chain, error) {
	if !ch.HasNamed() {
		return ch, nil
	}
	if depth >= maxNamedDepth {
		return nil, errorf("Named transformations nested too deeply")
	}
	if r == nil {
		return nil, errorf("Unknown transformation %s", ch.firstNamed())
	}
	var out Chain
	for _, c := range ch {
		if len(c.Named) == 0 {
			out = append(out, c)
			continue
		}
		for _, name := range c.Named {
			s, ok, err := r.ResolveNamed(name)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errorf("Unknown transformation %s", name)
			}
			sub, err := ParseChain(s)
			if err != nil {
				return nil, err
			}
			sub, err = sub.expand(r, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			if len(out) > MaxComponents {
				return nil, errorf("Named transformations expand to more than %d components", MaxComponents)
			}
		}
		if rest := c.withoutNamed(); rest != nil {
			out = append(out, rest)
		}
	}
	return out, nil
}

func (ch Chain) firstNamed() string {
	for _, c := range ch {
		if len(c.Named) > 0 {
			return c.Named[0]
		}
	}
	return ""
}

// withoutNamed returns a copy of c without t_, or nil if nothing remains.
func (c *Component) withoutNamed() *Component {
	if len(c.pairs) == 1 {
		return nil
	}
	cp := *c
	cp.Named = nil
	cp.pairs = make(map[string]string, len(c.pairs)-1)
	for k, v := range c.pairs {
		if k != "t" {
			cp.pairs[k] = v
		}
	}
	return &cp
}
