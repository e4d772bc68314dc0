package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/edgepix/edgepix/sdk"
)

// clientCommands are the commands that talk to a running edgepix.
var clientCommands = map[string]func(*sdk.Client, []string) error{
	"upload": cmdUpload,
	"url":    cmdURL,
	"call":   cmdCall,
	"batch":  cmdBatch,
}

const clientUsage = `client commands (CLOUDINARY_URL names the account and API; EDGEPIX_DELIVERY_URL the edge):
  upload FILE|URL [flags] [key=value ...]   upload and print the result
  url PUBLIC_ID [flags]                     print a delivery URL (canonical, optionally signed)
  call ACTION [key=value ...]               any signed Upload API action: destroy, rename, explicit,
                                            tags, context, sprite, multi, explode
  batch BATCH_ID                            status of background work`

func runClient(name string, args []string) error {
	cfg, err := sdk.FromURL(os.Getenv("CLOUDINARY_URL"), env("delivery-url", ""))
	if err != nil {
		return err
	}
	return clientCommands[name](sdk.New(cfg), args)
}

// params turns key=value arguments into parameters.
func params(args []string) (url.Values, error) {
	v := url.Values{}
	for _, a := range args {
		k, val, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("expected key=value, got %q", a)
		}
		v.Add(k, val)
	}
	return v, nil
}

func printJSON(v any) error {
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

func cmdUpload(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	rt := fs.String("resource-type", "auto", "image, raw or auto")
	id := fs.String("public-id", "", "public_id")
	tags := fs.String("tags", "", "comma-separated tags")
	eager := fs.String("eager", "", "eager transformations, |-separated")
	eagerAsync := fs.Bool("eager-async", false, "render eager transformations in the background")
	async := fs.Bool("async", false, "process the whole upload in the background")
	notify := fs.String("notification-url", "", "URL told when the work is done")
	if len(args) == 0 {
		return errors.New("usage: edgepix upload FILE|URL [flags] [key=value ...]")
	}
	file := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	p, err := params(fs.Args())
	if err != nil {
		return err
	}
	for k, v := range map[string]string{"public_id": *id, "tags": *tags, "eager": *eager, "notification_url": *notify} {
		if v != "" {
			p.Set(k, v)
		}
	}
	if *eagerAsync {
		p.Set("eager_async", "true")
	}
	if *async {
		p.Set("async", "true")
	}
	res, err := c.Upload(context.Background(), *rt, file, p)
	if err != nil {
		return err
	}
	return printJSON(res)
}

func cmdURL(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("url", flag.ContinueOnError)
	var o sdk.URLOptions
	fs.StringVar(&o.Transformation, "tx", "", "transformation, e.g. c_fill,w_300,h_200")
	fs.StringVar(&o.Format, "format", "", "extension")
	fs.StringVar(&o.ResourceType, "resource-type", "image", "image or raw")
	fs.StringVar(&o.Type, "type", "upload", "upload, private, authenticated, sprite, multi")
	fs.Int64Var(&o.Version, "version", 0, "version to put in the URL")
	fs.BoolVar(&o.Sign, "sign", false, "sign the URL (s--...--)")
	if len(args) == 0 {
		return errors.New("usage: edgepix url PUBLIC_ID [flags]")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	u, err := c.URL(args[0], o)
	if err != nil {
		return err
	}
	fmt.Println(u)
	return nil
}

func cmdCall(c *sdk.Client, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: edgepix call ACTION [resource_type=image] [key=value ...]")
	}
	p, err := params(args[1:])
	if err != nil {
		return err
	}
	rt := p.Get("resource_type")
	p.Del("resource_type")
	res, err := c.Call(context.Background(), rt, args[0], p)
	if err != nil {
		return err
	}
	return printJSON(res)
}

func cmdBatch(c *sdk.Client, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: edgepix batch BATCH_ID")
	}
	res, err := c.Batch(context.Background(), args[0])
	if err != nil {
		return err
	}
	return printJSON(res)
}
