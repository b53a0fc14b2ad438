package io.github.lakehouse.hadoop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's raw local file system, with the two calls that start a process on every file
 * answered by java.nio instead.
 *
 * Without Hadoop's native library (libhadoop.so, which no Maven artifact ships),
 * RawLocalFileSystem runs `chmod` for every file and directory it creates with a
 * permission, and `readlink` for every path whose link status FileContext asks for, that
 * is twice per rename: every Delta commit and every Parquet file costs a fork of the JVM
 * plus a reader thread. Both answers are the same here: the permission bits are set with
 * Files.setPosixFilePermissions, and a path that is not a symbolic link has the status
 * getFileStatus gives it, as the original returns for an empty readlink. Symbolic links
 * and sticky bits still take Hadoop's own way.
 */
public class NioRawLocalFileSystem extends RawLocalFileSystem {

  @Override
  public void setPermission(Path p, FsPermission permission) throws IOException {
    if (permission.getStickyBit()) {
      super.setPermission(p, permission);
      return;
    }
    String rwx = permission.getUserAction().SYMBOL + permission.getGroupAction().SYMBOL
        + permission.getOtherAction().SYMBOL;
    Files.setPosixFilePermissions(pathToFile(p).toPath(), PosixFilePermissions.fromString(rwx));
  }

  @Override
  public FileStatus getFileLinkStatus(Path f) throws IOException {
    if (Files.isSymbolicLink(pathToFile(f).toPath())) {
      return super.getFileLinkStatus(f);
    }
    return getFileStatus(f);  // throws FileNotFoundException for a missing path, as the original does
  }
}
