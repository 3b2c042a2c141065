/* bay_status.c — what the station shows of its bays: the status JSON (the
 * control socket, the status page), the text table (dockctl status) and the
 * metrics (see bay.h). */
#include <string.h>

#include "bay_internal.h"
#include "output.h"
#include "util.h"

const char *bay_phase_name(const struct bay *b)
{
        switch (b->phase) {
        case BAY_DOCKED: return "docked";
        case BAY_IDENTIFYING: return "identifying";
        case BAY_UNLOCKING: return "unlocking";
        case BAY_INGESTING: return "ingesting";
        default: return b->result ? b->result : "failed";
        }
}

/* The physical bay's label for a USB port ([bays]), or NULL. */
static const char *slot_label(const struct config *cfg, const char *port)
{
        for (size_t i = 0; i < cfg->n_slots; i++)
                if (strcmp(cfg->slots[i].port, port) == 0)
                        return cfg->slots[i].label;
        return NULL;
}

void bays_status_json(struct bays *b, FILE *f)
{
        pthread_mutex_lock(&b->mu);
        json_kv(f, "{\"station\":", b->cfg->station_id);
        json_kv(f, ",\"language\":", b->cfg->language);
        fputs(",\"slots\":[", f);
        for (size_t i = 0; i < b->cfg->n_slots; i++) {
                json_kv(f, i ? ",{\"label\":" : "{\"label\":", b->cfg->slots[i].label);
                json_kv(f, ",\"port\":", b->cfg->slots[i].port);
                fputc('}', f);
        }
        fputs("],\"not_recorders\":[", f);
        for (struct not_recorder *n = b->others; n; n = n->next) {
                json_kv(f, n == b->others ? "{\"bay\":" : ",{\"bay\":", n->port);
                json_kv(f, ",\"label\":", slot_label(b->cfg, n->port));
                json_kv(f, ",\"device\":", n->what);
                json_kv(f, ",\"why\":", n->why);
                fputc('}', f);
        }
        fprintf(f, "],\"max_parallel\":%u,\"bays\":[", b->cfg->max_parallel);
        double now = time_mono();
        bool first = true;
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                const struct ingest_progress *p = &bay->prog;
                double eta;
                double rate = ingest_progress_rate(p, now, &eta);
                if (eta < 0)
                        eta = 0;
                fprintf(f, "%s{\"bay\":", first ? "" : ",");
                first = false;
                json_str(f, bay->dock.bay);
                json_kv(f, ",\"label\":", slot_label(b->cfg, bay->dock.bay));
                json_kv(f, ",\"reason\":", bay->phase == BAY_DONE && !bay->safe_to_remove ? bay->reason : NULL);
                json_kv(f, ",\"devnode\":", bay->dock.devnode);
                json_kv(f, ",\"serial\":", bay->id.serial);
                json_kv(f, ",\"identity_flag\":", bay->id.flag[0] ? bay->id.flag : NULL);
                json_kv(f, ",\"vendor\":", bay->dock.vendor);
                json_kv(f, ",\"model\":", bay->dock.model);
                json_kv(f, ",\"officer\":", bay->officer[0] ? bay->officer : NULL);
                json_kv(f, ",\"docked_at\":", bay->docked_at);
                json_kv(f, ",\"wipe\":", bay->wipe[0] ? bay->wipe : NULL);
                json_kv(f, ",\"state\":", bay_phase_name(bay));
                json_kv(f, ",\"step\":", bay->phase == BAY_UNLOCKING ? bay->step : NULL);
                json_kv(f, ",\"reported_officer\":", bay->reported_badge[0] ? bay->reported_badge : NULL);
                json_kv(f, ",\"reported_officer_name\":", bay->reported_name[0] ? bay->reported_name : NULL);
                if (bay->battery_pct >= 0)
                        fprintf(f, ",\"battery_pct\":%d", bay->battery_pct);
                fprintf(f,
                        ",\"queued\":%s,\"session\":%lld,\"files_done\":%zu,\"files_total\":%zu,"
                        "\"bytes_done\":%lld,\"bytes_total\":%lld,\"rate_bps\":%.0f,\"eta_s\":%.0f,"
                        "\"files_under_copied\":%lld,\"safe_to_remove\":%s,\"error\":",
                        !bay->started && bay->phase == BAY_DOCKED ? "true" : "false", (long long)bay->session_id,
                        p->file_index < p->n_files ? p->file_index : p->n_files, p->n_files, (long long)p->bytes_done,
                        (long long)p->bytes_total, rate, eta, (long long)bay->files_under_copied,
                        bay->safe_to_remove ? "true" : "false");
                json_str(f, bay->error[0] ? bay->error : NULL);
                fputc('}', f);
        }
        fputc(']', f);
        pthread_mutex_unlock(&b->mu);
}

void bays_metrics(struct bays *b, struct bay_metrics *m)
{
        memset(m, 0, sizeof(*m));
        pthread_mutex_lock(&b->mu);
        double now = time_mono();
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                m->docked++;
                switch (bay->phase) {
                case BAY_DOCKED: m->waiting++; break;
                case BAY_IDENTIFYING: m->identifying++; break;
                case BAY_UNLOCKING: m->unlocking++; break;
                case BAY_INGESTING: {
                        double eta;
                        m->ingesting++;
                        m->rate_bps += ingest_progress_rate(&bay->prog, now, &eta);
                        m->bytes_in_flight += bay->prog.bytes_done;
                        break;
                }
                case BAY_DONE:
                        if (bay->safe_to_remove)
                                m->safe_to_remove++;
                        else
                                m->not_safe++;
                        break;
                }
        }
        m->bytes_copied = b->bytes_copied;
        m->files_copied = b->files_copied;
        m->errors = b->errors;
        m->readback_mismatches = b->readback_mismatches;
        pthread_mutex_unlock(&b->mu);
}

void bays_battery_metrics(struct bays *b, FILE *f)
{
        pthread_mutex_lock(&b->mu);
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked || bay->battery_pct < 0)
                        continue;
                fputs("dockd_bay_battery_percent{bay=\"", f);
                for (const char *c = bay->dock.bay; *c; c++) /* a label value's escapes */
                        fputs(*c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n" : (char[]){ *c, 0 }, f);
                fprintf(f, "\"} %d\n", bay->battery_pct);
        }
        pthread_mutex_unlock(&b->mu);
}

void bays_status_text(struct bays *b, FILE *f)
{
        pthread_mutex_lock(&b->mu);
        double now = time_mono();
        size_t n = 0;
        fprintf(f, "%-28s %-18s %-10s %-12s %-24s %10s %7s  %s\n", "BAY", "DEVICE", "OFFICER", "STATE", "PROGRESS",
                "RATE", "ETA", "SAFE TO REMOVE");
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                n++;
                const struct ingest_progress *p = &bay->prog;
                double eta_s;
                double rate = ingest_progress_rate(p, now, &eta_s);
                double frac = p->bytes_total > 0 ? (double)p->bytes_done / p->bytes_total : (bay->phase == BAY_DONE);
                if (frac > 1)
                        frac = 1;
                char bar[32], r[32] = "-", eta[48] = "-";
                int fill = (int)(frac * 12 + 0.5);
                snprintf(bar, sizeof(bar), "[%.*s%.*s] %3d%%", fill, "############", 12 - fill, "............",
                         (int)(frac * 100 + 0.5));
                if (bay->phase == BAY_INGESTING && rate > 0) {
                        format_bytes(rate, r, sizeof(r));
                        strcat(r, "/s");
                        if (eta_s >= 0)
                                format_eta(eta_s, eta, sizeof(eta));
                }
                const char *safe = bay->phase != BAY_DONE ? "no, wait" : bay->safe_to_remove ? "YES" : "NO: see error";
                /* the serial and the officer come from the device and people:
                 * escaped, and aligned by display width */
                fput_cols(f, bay->dock.bay, 28, true);
                fputc(' ', f);
                fput_cols(f, bay->id.serial[0] ? bay->id.serial : "?", 18, true);
                fputc(' ', f);
                fput_cols(f, bay->officer[0] ? bay->officer : "-", 10, false);
                fprintf(f, " %-12s %-24s %10s %7s  %s\n",
                        !bay->started && bay->phase == BAY_DOCKED ? "waiting" : bay_phase_name(bay), bar, r, eta, safe);
                char esc[1400];
                if (bay->error[0])
                        fprintf(f, "    ! %s\n", text_escape(bay->error, esc, sizeof(esc)));
                if (bay->wipe[0])
                        fprintf(f, "    %s\n", text_escape(bay->wipe, esc, sizeof(esc)));
                if (bay->phase == BAY_UNLOCKING)
                        fprintf(f, "    %s\n", bay->step);
                if (bay->battery_pct >= 0 || bay->reported_badge[0]) {
                        fprintf(f, "    the recorder reports:");
                        if (bay->reported_badge[0])
                                fprintf(f, " officer %s %s;", text_escape(bay->reported_badge, esc, sizeof(esc)),
                                        bay->reported_name);
                        if (bay->battery_pct >= 0)
                                fprintf(f, " battery %d%%", bay->battery_pct);
                        fputc('\n', f);
                }
        }
        if (!n)
                fprintf(f, "no recorder docked\n");
        pthread_mutex_unlock(&b->mu);
}
