package main

import (
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/metrics"
	"github.com/instancehub/instancehub/store"
	"github.com/instancehub/instancehub/web"
)

// The portal's figures are what each part tells: checked here, the one
// package that knows them all.
var (
	_ instancehub.EngineMetrics  = (*metrics.Metrics)(nil)
	_ instancehub.ServiceMetrics = (*metrics.Metrics)(nil)
	_ web.Metrics                = (*metrics.Metrics)(nil)
	_ azure.Metrics              = (*metrics.Metrics)(nil)
	_ store.Metrics              = (*metrics.Metrics)(nil)
	_ apps.Metrics               = (*metrics.Metrics)(nil)
	_ localapps.Metrics          = (*metrics.Metrics)(nil)
)
