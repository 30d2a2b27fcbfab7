# R's plotly package (CRAN 4.10), pointed at the local server over HTTPS: it rewrites every API
# address to https://, so it reaches chart-studio-server only when TLS is on. Run by
# `cargo xtask ci compat` with CS_API (an https address) and CS_CA (the server's certificate).
suppressPackageStartupMessages(library(plotly))

api_address <- Sys.getenv("CS_API")
Sys.setenv(
  plotly_username = "pyuser", plotly_api_key = "pyuser-key",
  plotly_domain = api_address, plotly_api_domain = api_address
)
httr::set_config(httr::config(cainfo = Sys.getenv("CS_CA")))

# The API root, as `api()` with no arguments asks for it.
root <- api()
stopifnot(!is.null(root$files), startsWith(root$files, api_address))

# Plots in each sharing mode; raw data goes into a grid the client uploads.
p <- plot_ly(x = c("a", "b", "c"), y = c(3, 1, 2), type = "bar")
made <- list()
for (sharing in c("public", "private", "secret")) {
  made[[sharing]] <- api_create(p, filename = paste0("r-compat/", sharing), sharing = sharing)
}
stopifnot(startsWith(made$public$web_url, api_address))
stopifnot(isTRUE(made$public$world_readable), !isTRUE(made$private$world_readable))
stopifnot(isTRUE(made$secret$share_key_enabled))

# Overwriting keeps the fid.
again <- api_create(plot_ly(x = c("a", "b"), y = c(5, 6), type = "bar"), filename = "r-compat/public")
stopifnot(identical(again$fid, made$public$fid))

# A figure read back, and the copy endpoint from the package's own help.
fig <- api_download_plot(strsplit(made$public$fid, ":")[[1]][2], "pyuser")
stopifnot(inherits(fig, "plotly"))
copied <- api(paste0("files/", made$public$fid, "/copy"), "POST")
stopifnot(startsWith(copied$file$fid, "pyuser:"), !identical(copied$file$fid, made$public$fid))

# Images, as plotly_IMAGE writes them: the format asked for, at width × scale pixels.
for (format in c("png", "jpeg", "svg", "pdf")) {
  out <- tempfile(fileext = paste0(".", format))
  plotly_IMAGE(p, format = format, width = 300, height = 200, scale = 2, out_file = out)
  head <- readBin(out, "raw", 64)
  magic <- list(png = c(0x89, 0x50, 0x4e, 0x47), jpeg = c(0xff, 0xd8, 0xff),
                svg = c(0x3c, 0x73, 0x76, 0x67), pdf = c(0x25, 0x50, 0x44, 0x46))[[format]]
  stopifnot(identical(head[seq_along(magic)], as.raw(magic)))
  if (format == "png") {
    width <- sum(as.integer(head[17:20]) * c(16777216, 65536, 256, 1))
    stopifnot(width == 600)
  }
}

# Errors come back as R errors.
failed <- tryCatch({ api("files/pyuser:99999"); FALSE }, error = function(e) TRUE)
stopifnot(failed)
cat("r_plotly: ok\n")
