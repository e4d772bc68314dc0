package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/edgepix/edgepix/sdk"
)

// printResources writes assets as a table, or as JSON lines with -json.
func printResources(list []sdk.Resource, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range list {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PUBLIC_ID\tTYPE\tFORMAT\tSIZE\tBYTES\tTAGS")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%dx%d\t%d\t%s\n", r.PublicID, r.ResourceType, r.Type, r.Format, r.Width, r.Height,
			r.Bytes, strings.Join(r.Tags, ","))
	}
	return tw.Flush()
}

func cmdSearch(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	limit := fs.Int("max", 100, "at most this many results")
	sortBy := fs.String("sort", "created_at:desc", "field:asc or field:desc")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var list []sdk.Resource
	cursor := ""
	for len(list) < *limit {
		page, err := c.Search(context.Background(), sdk.SearchOptions{Expression: strings.Join(pos, " "), SortBy: *sortBy,
			MaxResults: min(500, *limit-len(list)), Cursor: cursor})
		if err != nil {
			return err
		}
		list = append(list, page.Resources...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return printResources(list, *asJSON)
}

func cmdLs(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	folder := fs.String("folder", "", "only this folder (and below)")
	tag := fs.String("tag", "", "only assets with this tag")
	rt := fs.String("resource-type", "image", "image or raw")
	typ := fs.String("type", "", "upload, private, authenticated, ...")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	o := sdk.ListOptions{ResourceType: *rt, Type: *typ, Tag: *tag, MaxResults: 500}
	if f := strings.Trim(*folder, "/"); f != "" {
		o.Prefix = f + "/"
	}
	var list []sdk.Resource
	for {
		page, err := c.Resources(context.Background(), o)
		if err != nil {
			return err
		}
		for _, r := range page.Resources {
			if o.Tag == "" || strings.HasPrefix(r.PublicID, o.Prefix) {
				list = append(list, r)
			}
		}
		if o.Cursor = page.NextCursor; o.Cursor == "" {
			break
		}
	}
	return printResources(list, *asJSON)
}

func cmdRm(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	rt := fs.String("resource-type", "image", "image or raw")
	typ := fs.String("type", "upload", "upload, private, authenticated, ...")
	ids, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("usage: edgepix rm PUBLIC_ID... [-resource-type image] [-type upload]")
	}
	missing := 0
	for i := 0; i < len(ids); i += 100 {
		batch := ids[i:min(i+100, len(ids))]
		res, err := c.DeleteResources(context.Background(), *rt, *typ, batch)
		if err != nil {
			return err
		}
		for _, id := range batch {
			fmt.Printf("%s\t%s\n", id, res[id])
			if res[id] != "deleted" {
				missing++
			}
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d not deleted", missing, len(ids))
	}
	return nil
}

func cmdWebhooks(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	failed := fs.Bool("failed", false, "only failed deliveries")
	status := fs.String("status", "", "pending, delivered or failed")
	batch := fs.String("batch", "", "only this batch's")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *failed {
		*status = "failed"
	}
	list, err := c.Deliveries(context.Background(), *status, *batch)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, d := range list {
			enc.Encode(d)
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTYPE\tATTEMPTS\tLAST\tURL")
	for _, d := range list {
		last := "-"
		if n := len(d.Attempts); n > 0 {
			a := d.Attempts[n-1]
			last = a.At.Format("2006-01-02 15:04:05")
			if a.StatusCode != 0 {
				last += fmt.Sprintf(" HTTP %d", a.StatusCode)
			}
			if a.Error != "" {
				last += " " + a.Error
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Status, d.Type, len(d.Attempts), last, d.URL)
	}
	return tw.Flush()
}

func cmdRedeliver(c *sdk.Client, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: edgepix redeliver DELIVERY_ID")
	}
	d, err := c.Redeliver(context.Background(), args[0])
	if err != nil {
		return err
	}
	fmt.Printf("%s is being sent again to %s\n", d.ID, d.URL)
	return nil
}
