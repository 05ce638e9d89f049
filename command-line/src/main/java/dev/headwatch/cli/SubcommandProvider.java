package dev.headwatch.cli;

import java.util.List;

/**
 * Adds subcommands to {@code headwatch} from another module: an implementation named in
 * {@code META-INF/services/dev.headwatch.cli.SubcommandProvider} is found on the class path by
 * {@link Headwatch#main(String[])} (the examples module adds {@code demo}, {@code example} and {@code bench}).
 */
public interface SubcommandProvider {

    /** picocli {@code @Command} classes or instances, in the order they are listed in the help. */
    List<Object> subcommands();
}
