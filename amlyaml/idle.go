package amlyaml

import (
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxIdleMinutes bounds an idle time to what the service reads (eight
// digits); the service then checks it is from 15 minutes to 3 days.
const maxIdleMinutes = 99_999_999

// idle reads the idle time, given as an ISO 8601 duration or in minutes;
// 0 minutes turns idle shutdown off (rather than leaving the workspace's
// default), which is how Encode writes an instance without it.
// az ml compute show prints both, so both are accepted when they agree.
func (d *decoder) idle(duration, minutes *yaml.Node) (int64, bool) {
	const dPath, mPath = "idle_time_before_shutdown", "idle_time_before_shutdown_minutes"
	fromDuration, okD := d.isoIdle(dPath, duration)
	fromMinutes, okM := d.integer(mPath, minutes)
	if okM && (fromMinutes < 0 || fromMinutes > maxIdleMinutes) {
		d.at(mPath, minutes, "%s must be a number of minutes from 1 to %d, or 0 for no idle shutdown, not %d", mPath, maxIdleMinutes, fromMinutes)
		okM = false
	}
	switch {
	case okD && okM && fromDuration != fromMinutes:
		d.at(mPath, minutes, "%s is %d minutes, but %s is %d: give one of them", mPath, fromMinutes, dPath, fromDuration)
		return 0, false
	case okD:
		return fromDuration, true
	}
	return fromMinutes, okM
}

// isoDuration is an ISO 8601 duration of weeks, days, hours, minutes and
// seconds. Years and months have no fixed length, so they are left out.
var isoDuration = regexp.MustCompile(`^P(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})S)?)?$`)

// isoIdle reads an ISO 8601 duration (PT30M, PT1H30M, P1D) as whole minutes.
func (d *decoder) isoIdle(path string, n *yaml.Node) (int64, bool) {
	text, ok := d.str(path, n)
	if !ok {
		return 0, false
	}
	m := isoDuration.FindStringSubmatch(text)
	if m == nil || text == "P" || text[len(text)-1] == 'T' {
		d.at(path, n, "%s must be an ISO 8601 duration such as PT30M, PT1H30M or P1D, not %q", path, clip(text))
		return 0, false
	}
	var seconds int64
	for i, unit := range []int64{7 * 24 * 3600, 24 * 3600, 3600, 60, 1} {
		v, _ := strconv.ParseInt("0"+m[i+1], 10, 64) // at most 9 digits: never fails or overflows
		seconds += v * unit
	}
	switch {
	case seconds%60 != 0:
		d.at(path, n, "%s must be whole minutes, not %q", path, clip(text))
		return 0, false
	case seconds < 60 || seconds/60 > maxIdleMinutes:
		d.at(path, n, "%s must be from 1 to %d minutes, not %q", path, maxIdleMinutes, clip(text))
		return 0, false
	}
	return seconds / 60, true
}
