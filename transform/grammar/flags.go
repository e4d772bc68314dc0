package grammar

import (
	"sort"
	"strings"
)

// flags are the fl_ values edgepix honours. Metadata is stripped from
// derived images unless keep_iptc or keep_attribution asks to keep it, so
// strip_profile and force_strip always hold.
var flags = map[string]bool{
	"attachment": true, "progressive": true, "strip_profile": true, "force_strip": true,
	"preserve_transparency": true, "lossless": true, "animated": true, "awebp": true,
	"immutable_cache": true, "layer_apply": true,
	"lossy": true, "png8": true, "keep_iptc": true, "keep_attribution": true,
	"ignore_aspect_ratio": true, "getinfo": true, "tiled": true, "relative": true,
	"no_overflow": true,
}

// parseFlags adds the flags of one fl_ value (a.b.c) to c and returns the
// canonical value of all of c's flags: a component may carry several fl_
// pairs (fl_layer_apply,fl_no_overflow), the same as one joined by dots.
func (c *Component) parseFlags(v string) (string, error) {
	for _, p := range strings.Split(v, ".") {
		name, arg, _ := strings.Cut(p, ":")
		if !flags[name] {
			return "", invalid("flag", p)
		}
		if arg != "" && name != "attachment" {
			return "", invalid("flag", p)
		}
		if c.HasFlag(name) {
			continue
		}
		if arg != "" {
			if c.FlagArgs == nil {
				c.FlagArgs = map[string]string{}
			}
			c.FlagArgs[name] = arg
		}
		c.Flags = append(c.Flags, name)
	}
	canon := make([]string, len(c.Flags))
	for i, f := range c.Flags {
		canon[i] = f
		if a := c.FlagArgs[f]; a != "" {
			canon[i] += ":" + a
		}
	}
	sort.Strings(canon)
	return strings.Join(canon, "."), nil
}
