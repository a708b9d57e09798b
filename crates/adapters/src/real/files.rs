//! Files an adapter owns on disk (HAProxy's map file, nginx's included file): replaced
//! atomically, so that a reader sees the old file or the new one, never half of one.

use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Write a temporary file beside `path`, then rename it over `path`.
pub(crate) async fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.warroom-tmp"));
    let write = async {
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(data).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, path).await
    };
    match write.await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(format!("{}: {e}", path.display()))
        }
    }
}
