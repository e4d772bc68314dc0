// Command duotone is an example edgepix plugin built with sdk/plugin:
// fx.Duotone compiled to WebAssembly (make plugins).
package main

import (
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
)

func init() { plugin.Handle(fx.Duotone) }

func main() {}
